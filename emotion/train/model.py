"""The project's FER2013 network ("fernet") and every training hyper-parameter, in one dataclass.

Architecture: a VGG-style CNN on the 48x48 grayscale crop. Each stage is ``convs_per_stage`` x
(3x3 conv without bias -> batch norm -> ReLU), then 2x2 max-pool and dropout; after the last stage a
global average pool, dropout and one dense layer to the 7 FER classes. Only these layer types are used,
so :mod:`emotion.train.export` can write the ONNX graph itself (batch norm folded into the convs).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from emotion.train.config_io import JsonConfig


@dataclass
class TrainConfig(JsonConfig):
    # --- data / preprocessing -------------------------------------------------------------------
    input_size: int = 48
    # --- architecture ---------------------------------------------------------------------------
    # sized by measurement: 54 M MACs, ~1.5 ms per face with ONNX Runtime on one core, so that the flip
    # TTA (two faces) still fits the 3 ms budget; an epoch takes ~3 min on 2 CPU cores
    widths: tuple[int, ...] = (24, 48, 96, 192)  # output channels of each stage
    convs_per_stage: tuple[int, ...] = (1, 2, 2, 2)
    stage_dropout: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3)
    head_dropout: float = 0.4
    bn_momentum: float = 0.99
    # --- optimisation ---------------------------------------------------------------------------
    epochs: int = 24
    batch_size: int = 64
    optimizer: str = "sgd"  # "sgd" (Nesterov momentum) or "adamw"
    lr: float = 0.05  # peak learning rate (for batch_size; scaled linearly if the batch changes)
    momentum: float = 0.9
    weight_decay: float = 5e-4  # SGD: L2 on conv/dense kernels; AdamW: decoupled decay
    warmup_epochs: float = 1.0
    min_lr_frac: float = 0.01  # cosine decays to lr * min_lr_frac
    label_smoothing: float = 0.1
    class_weight_power: float = 0.5  # 0: unweighted, 1: fully balanced (inverse frequency)
    # --- augmentation (emotion.train.data.Augmenter) ----------------------------------------------
    aug_shift: float = 0.1  # fraction of the side
    aug_rotate_deg: float = 12.0
    aug_scale: float = 0.12
    aug_flip: bool = True
    aug_gamma: float = 0.35  # log-gamma range
    aug_contrast: float = 0.3
    aug_erase_prob: float = 0.4
    aug_erase_max_frac: float = 0.15
    # --- inference --------------------------------------------------------------------------------
    tta_flip: bool = True  # average the prediction with the one on the mirrored crop
    # --- reproducibility --------------------------------------------------------------------------
    seed: int = 1
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        return cls._from_dict(d, strict=False)


#: named presets; ``python -m emotion train --preset NAME``
PRESETS: dict[str, dict] = {
    # the shipped model: sized so that an epoch takes a couple of minutes on 2 CPU cores
    "default": {},
    # a quick smoke run (a few minutes on the CPU)
    "quick": {"epochs": 3, "widths": (16, 32, 64, 128)},
    # what a GPU can afford: wider, longer
    "gpu": {"widths": (32, 64, 128, 256), "convs_per_stage": (2, 2, 2, 2), "epochs": 120, "batch_size": 128,
            "lr": 0.1},
}


def make_config(preset: str = "default", **overrides) -> TrainConfig:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    d = TrainConfig().to_dict()
    d.update(PRESETS[preset])
    d.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig.from_dict(d)


def build_model(cfg: TrainConfig):
    """The Keras model: float32 (N, S, S, 1) preprocessed crops in, 7 logits out (softmax is applied in
    the loss and, after export, in the inference graph)."""
    import keras
    from keras import layers

    if not (len(cfg.widths) == len(cfg.convs_per_stage) == len(cfg.stage_dropout)):
        raise ValueError("widths, convs_per_stage and stage_dropout must have the same length")
    reg = keras.regularizers.L2(cfg.weight_decay / 2) if cfg.optimizer == "sgd" and cfg.weight_decay else None
    inp = keras.Input((cfg.input_size, cfg.input_size, 1), name="crop")
    x = inp
    for s, (width, n_conv, drop) in enumerate(zip(cfg.widths, cfg.convs_per_stage, cfg.stage_dropout)):
        for c in range(n_conv):
            x = layers.Conv2D(width, 3, padding="same", use_bias=False, kernel_regularizer=reg,
                              kernel_initializer="he_normal", name=f"s{s}_conv{c}")(x)
            x = layers.BatchNormalization(momentum=cfg.bn_momentum, epsilon=1e-3, name=f"s{s}_bn{c}")(x)
            x = layers.ReLU(name=f"s{s}_relu{c}")(x)
        x = layers.MaxPooling2D(2, name=f"s{s}_pool")(x)
        if drop:
            x = layers.Dropout(drop, name=f"s{s}_drop")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if cfg.head_dropout:
        x = layers.Dropout(cfg.head_dropout, name="head_drop")(x)
    out = layers.Dense(7, kernel_regularizer=reg, name="logits")(x)
    return keras.Model(inp, out, name="fernet")


def count_macs(cfg: TrainConfig) -> int:
    """Multiply-accumulates of one forward pass (convs + dense)."""
    s, c_in, macs = cfg.input_size, 1, 0
    for width, n_conv in zip(cfg.widths, cfg.convs_per_stage):
        for _ in range(n_conv):
            macs += s * s * 9 * c_in * width
            c_in = width
        s //= 2
    return macs + c_in * 7
