"""`python -m emotion COMMAND`: each command lives in its own module, imported only when used."""
from __future__ import annotations

import argparse
import importlib

# command -> module that provides `add_arguments(parser)` and `run(args) -> int`
COMMANDS = {
    "analyze": ("emotion.commands.analyze", "analyse a photo: one line or JSON object per face"),
    "video": ("emotion.commands.video", "analyse a video file: per-person emotion timeline, CSV, annotated MP4"),
    "models": ("emotion.commands.models", "list every model by role, its weights and whether it is usable"),
    "compare": ("emotion.commands.compare", "compare detectors x recognisers and emotion classifiers on your photos"),
    "bench": ("emotion.bench", "per-stage timings against plain DeepFace (--live: the streaming path)"),
    "train": ("emotion.train.torch_train", "train the FER2013 emotion model in PyTorch (requirements-train.txt)"),
    "train-keras": ("emotion.train.train", "the first round's Keras trainer of fernet (TensorFlow)"),
    "evaluate": ("emotion.train.evaluate", "evaluate the emotion model on a FER2013-format .npz.xz file"),
    "evaluate-photos": ("emotion.commands.evaluate_photos",
                        "the whole engine on labelled photos (DIR/labels.csv): no-face rate, accuracy"),
    "verify-pairs": ("emotion.commands.verify_pairs",
                     "same person or not for photo pairs (a,b,same or file_x,file_y,Decision): accuracy"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotion", description="Emotion-recognition engine")
    sub = parser.add_subparsers(dest="command", required=True)
    # Build every sub-parser lazily: a module is imported only for the command being run, so that
    # `python -m emotion evaluate` does not pay for TensorFlow and the other way round.
    import sys

    argv = list(sys.argv[1:] if argv is None else argv)
    chosen = next((a for a in argv if not a.startswith("-")), None)
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == chosen:
            module = importlib.import_module(module_name)
            module.add_arguments(p)
            p.set_defaults(_module=module)
    args = parser.parse_args(argv)
    return int(args._module.run(args) or 0)
