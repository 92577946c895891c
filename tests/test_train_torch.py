"""The PyTorch trainer end to end on a few hundred faces: trains, checkpoints, resumes, exports an ONNX file
that the engine's classifier loads and that agrees with the PyTorch model; and the batch augmentation.

Needs torch (requirements-train.txt): skipped without it, except under CI=true where it must run.
FER2013 faces are used when ../shared/data/fer2013 is present, else synthetic faces (same shapes).
"""
from __future__ import annotations

import io
import json
import lzma
import os

import numpy as np
import pytest

from emotion import config

if os.environ.get("CI", "").strip().lower() == "true":
    import torch  # noqa: F401 - under CI the training requirements are installed: a missing torch fails
else:
    pytest.importorskip("torch")

from emotion.classify import fer_cnn as fernet, fer_vgg  # noqa: E402
from emotion.classify.views import VIEWS  # noqa: E402
from emotion.train import torch_export, torch_train  # noqa: E402
from emotion.train.torch_net import make_config  # noqa: E402

N_TRAIN, N_VAL = 320, 96


def _write_npz_xz(path, images, labels) -> None:
    buf = io.BytesIO()
    np.savez(buf, images=images.astype(np.uint8), labels=labels.astype(np.uint8))
    with lzma.open(path, "wb") as f:
        f.write(buf.getvalue())


@pytest.fixture(scope="module")
def small_fer(tmp_path_factory):
    """A folder with Training.npz.xz (320 faces) and PublicTest.npz.xz (96 faces)."""
    from emotion.train import data as fdata

    d = tmp_path_factory.mktemp("fer")
    src = config.FER2013_DIR
    if (src / fdata.TRAIN_FILE).is_file() and (src / fdata.VAL_FILE).is_file():
        x, y = fdata.load_split("train", src)
        pick = np.sort(np.random.default_rng(0).permutation(len(x))[:N_TRAIN])
        xv, yv = fdata.load_split("val", src)
        train, val = (x[pick], y[pick]), (xv[:N_VAL], yv[:N_VAL])
    else:  # synthetic: a bright or dark blob whose place depends on the class
        rng = np.random.default_rng(0)

        def make(n):
            y = np.arange(n) % 7
            img = rng.integers(60, 120, (n, 48, 48)).astype(np.uint8)
            for i, c in enumerate(y):
                img[i, 4 + 5 * c:12 + 5 * c, 10:38] = 230
            return img, y

        train, val = make(N_TRAIN), make(N_VAL)
    _write_npz_xz(d / fdata.TRAIN_FILE, *train)
    _write_npz_xz(d / fdata.VAL_FILE, *val)
    return d


def test_trains_checkpoints_resumes_and_exports_a_matching_onnx(small_fer, tmp_path):
    import torch

    cfg = make_config("tiny", epochs=2, batch_size=32)
    run_dir, out = tmp_path / "run", tmp_path / "models"
    out.mkdir()
    first = torch_train.train(cfg, run_dir, small_fer, stop_after=1, log=lambda m: None)
    assert first["epoch"] == 1 and [r["epoch"] for r in first["history"]] == [1]
    ckpt = torch_train.load_checkpoint(run_dir / "last.pt")
    assert ckpt["epoch"] == 1 and {"model", "optimizer", "scheduler", "rng", "best"} <= set(ckpt)
    assert (run_dir / "best.pt").is_file()
    with pytest.raises(FileExistsError):  # a second fresh start would overwrite the run
        torch_train.train(cfg, run_dir, small_fer, log=lambda m: None)

    second = torch_train.train(cfg, run_dir, small_fer, resume=True, log=lambda m: None)
    assert [r["epoch"] for r in second["history"]] == [1, 2]
    assert torch_train.load_checkpoint(run_dir / "last.pt")["epoch"] == 2
    # the scheduler continued: the learning rate of epoch 2 is below epoch 1's (cosine after warm-up)
    assert second["history"][1]["lr"] < second["history"][0]["lr"]
    assert len((run_dir / "history.jsonl").read_text().splitlines()) == 2

    meta = torch_export.export_run(run_dir, out, data_dir=small_fer, calib_faces=40, log=lambda m: None)
    assert meta["onnx_parity_max_abs_diff"] < 1e-3
    assert json.loads((out / fer_vgg.META_FILE).read_text())["best_epoch"] == meta["best_epoch"]
    assert (out / fer_vgg.INT8_FILE).is_file() and "ship_for_live" in meta["int8"]
    # int8 weights use 7 bits (reduce_range): no 16-bit saturation on CPUs without VNNI
    import onnx
    from onnx import numpy_helper

    q_weights = [numpy_helper.to_array(t) for t in onnx.load(str(out / fer_vgg.INT8_FILE)).graph.initializer
                 if t.data_type == onnx.TensorProto.INT8 and len(t.dims) == 4]
    assert len(q_weights) == 4  # one per convolution of the tiny preset
    assert max(int(np.abs(w.astype(np.int32)).max()) for w in q_weights) <= 64
    # `train --quantise FILE.onnx`: the int8 twin of any exported file, beside it, with both files' figures
    cand = tmp_path / "cand.onnx"
    cand.write_bytes((out / fer_vgg.MODEL_FILE).read_bytes())
    figs = torch_export.quantise_file(cand, data_dir=small_fer, n_faces=40, log=lambda m: None)
    assert (tmp_path / "cand.int8.onnx").is_file() and not figs["int8"]["tta"] and not figs["fp32"]["tta"]
    assert figs["int8"]["n"] == figs["fp32"]["n"] == N_VAL
    assert abs(figs["int8"]["accuracy"] - figs["fp32"]["accuracy"]) < 0.1

    # the engine's classifier on uint8 crops == the PyTorch model (fp32) on the same preprocessing
    from emotion.train import data as fdata

    crops, _ = fdata.load_split("val", small_fer)
    model, _, _ = torch_export.load_run_model(run_dir / "best.pt")
    x = fernet.preprocess(crops[:40])[:, None]
    ref = torch_export.torch_probs(model, x)
    exported = out / fer_vgg.MODEL_FILE
    got = fer_vgg.FerVggClassifier(model_file=exported, tta=False).predict(crops[:40])
    assert got.shape == (40, 7)
    np.testing.assert_allclose(got, ref, atol=1e-3)
    ref_tta = 0.5 * (ref + torch_export.torch_probs(model, np.ascontiguousarray(x[..., ::-1])))
    mirrored = fer_vgg.FerVggClassifier(model_file=exported, tta=False)
    mirrored.views = VIEWS["mirror"]
    np.testing.assert_allclose(mirrored.predict(crops[:40]), ref_tta, atol=1e-3)
    # the export measured each file alone in the views its single-file records stand for
    assert meta["publictest"]["views"] == "mirror" and meta["publictest_no_tta"]["views"] == "one"
    assert meta["int8"]["publictest_no_tta"]["views"] == "one"
    assert not torch.allclose(torch.from_numpy(ref), torch.from_numpy(ref_tta), atol=1e-4), \
        "the mirrored crop should change the probabilities of a trained model"

    # a new run can start from the exported (batch-norm-folded) file: same network, same probabilities
    from emotion.train.torch_init import init_from_onnx
    from emotion.train.torch_net import build_model

    fresh = build_model(cfg)
    assert init_from_onnx(fresh, out / fer_vgg.MODEL_FILE, x) < 1e-4
    np.testing.assert_allclose(torch_export.torch_probs(fresh, x), ref, atol=1e-4)


def test_deadline_shortens_the_schedule_and_the_run(small_fer, tmp_path):
    """With a deadline that has passed after the first epoch, the cosine is re-planned to end there."""
    import time

    cfg = make_config("tiny", epochs=5, batch_size=32)
    result = torch_train.train(cfg, tmp_path / "run", small_fer, deadline=time.time() + 0.5, log=lambda m: None)
    assert [r["epoch"] for r in result["history"]] == [1]
    ckpt = torch_train.load_checkpoint(tmp_path / "run" / "last.pt")
    assert ckpt["config"]["epochs"] == 1 and ckpt["max_epochs"] == 5 and ckpt["deadline"] is not None


def test_parse_deadline_takes_the_next_occurrence():
    import calendar

    now = calendar.timegm((2026, 11, 30, 1, 30, 0, 0, 0, 0))
    assert torch_train.parse_deadline("02:00", now) == now + 1800
    assert torch_train.parse_deadline("01:00", now) == now + 23.5 * 3600
    with pytest.raises(ValueError):
        torch_train.parse_deadline("25:00", now)


def test_resume_without_a_checkpoint_is_a_clear_error(small_fer, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        torch_train.train(make_config("tiny"), tmp_path / "none", small_fer, resume=True, log=lambda m: None)


def _no_aug(**changes):
    cfg = make_config("tiny", aug_shift=0.0, aug_rotate_deg=0.0, aug_scale=0.0, aug_flip=False, aug_gamma=0.0,
                      aug_contrast=0.0, aug_brightness=0.0, aug_blur_prob=0.0, aug_erase_prob=0.0)
    for k, v in changes.items():
        setattr(cfg, k, v)
    return cfg


def test_augmentation_identity_and_flip():
    import torch

    from emotion.train.torch_aug import augment

    imgs = torch.from_numpy(np.random.default_rng(1).integers(0, 256, (6, 48, 48), dtype=np.uint8))
    gen = torch.Generator().manual_seed(0)
    same = augment(imgs, _no_aug(), gen)
    assert same.dtype == torch.uint8 and same.shape == imgs.shape
    assert int((same.int() - imgs.int()).abs().max()) <= 1  # only float rounding
    flips = augment(imgs, _no_aug(aug_flip=True), torch.Generator().manual_seed(3))
    mirrored = torch.flip(imgs, dims=[2])
    per_image = [(flips[i].int() - mirrored[i].int()).abs().max() <= 1 or (flips[i].int() - imgs[i].int()).abs().max() <= 1
                 for i in range(len(imgs))]
    assert all(per_image)
    assert any(bool((flips[i].int() - mirrored[i].int()).abs().max() <= 1) for i in range(len(imgs)))


def test_augmentation_changes_every_image_within_range():
    import torch

    from emotion.train.torch_aug import augment

    imgs = torch.from_numpy(np.random.default_rng(2).integers(0, 256, (64, 48, 48), dtype=np.uint8))
    out = augment(imgs, make_config(), torch.Generator().manual_seed(0))
    changed = (out.int() - imgs.int()).abs().flatten(1).float().mean(1)
    assert bool((changed > 1.0).all())
    # seeded: the same generator seed gives the same batch
    again = augment(imgs, make_config(), torch.Generator().manual_seed(0))
    assert torch.equal(out, again)


def test_lowres_augmentation_blurs_when_on_and_changes_nothing_when_off():
    import torch

    from emotion.train.torch_aug import augment

    imgs = torch.from_numpy(np.random.default_rng(4).integers(0, 256, (8, 48, 48), dtype=np.uint8))
    every = augment(imgs, _no_aug(aug_lowres_prob=1.0, aug_lowres_min=12), torch.Generator().manual_seed(0))
    # a down-and-up resample of noise loses detail: each image's pixel-to-pixel variation drops
    def roughness(t):
        return (t[:, :, 1:].float() - t[:, :, :-1].float()).abs().mean(dim=(1, 2))
    assert bool((roughness(every) < 0.8 * roughness(imgs)).all())
    none = augment(imgs, _no_aug(aug_lowres_prob=0.0), torch.Generator().manual_seed(0))
    assert int((none.int() - imgs.int()).abs().max()) <= 1


def _flat_faces(n=16):
    """uint8 (n, 48, 48): face i is one flat grey level, all different, so every pixel tells its source."""
    import torch

    return torch.from_numpy(np.repeat((np.arange(n) * 15 + 5).astype(np.uint8), 48 * 48).reshape(n, 48, 48))


def test_cutmix_pastes_one_box_of_the_partner_face_and_reports_the_exact_share():
    import torch

    from emotion.train.torch_aug import mix_batch

    imgs = _flat_faces()
    shares = []
    for seed in range(6):
        mixed, perm, lam = mix_batch(imgs, _no_aug(mix_prob=1.0, mix_mode="cutmix"), torch.Generator().manual_seed(seed))
        assert sorted(perm.tolist()) == list(range(len(imgs)))
        own = mixed == imgs
        partner = mixed == imgs[perm]
        assert bool((own | partner).all()), "every pixel comes from the face or its partner"
        box = ~own[0]  # one box, the same in every face of the batch
        moved = perm != torch.arange(len(imgs))
        assert bool((~own[moved] == box).all())
        assert abs(lam - (1.0 - int(box.sum()) / box.numel())) < 1e-9
        if box.any():
            rows, cols = box.any(1).nonzero().flatten(), box.any(0).nonzero().flatten()
            assert int(box.sum()) == len(rows) * len(cols)  # a rectangle
        shares.append(lam)
    assert min(shares) < 0.9, shares  # Beta(1, 1) shares: some batches are really mixed


def test_mixup_blends_each_face_with_its_partner_by_the_share():
    import torch

    from emotion.train.torch_aug import mix_batch

    imgs = _flat_faces()
    mixed, perm, lam = mix_batch(imgs, _no_aug(mix_prob=1.0, mix_mode="mixup"), torch.Generator().manual_seed(1))
    assert 0.0 < lam < 1.0
    want = imgs.float() * lam + imgs[perm].float() * (1 - lam)
    assert float((mixed.float() - want).abs().max()) <= 0.5 + 1e-4


def test_no_mixing_leaves_the_batch_and_the_random_stream_alone():
    import torch

    from emotion.train.torch_aug import mix_batch

    imgs = _flat_faces()
    gen = torch.Generator().manual_seed(5)
    state = gen.get_state()
    same, perm, lam = mix_batch(imgs, _no_aug(mix_prob=0.0), gen)
    assert same is imgs and lam == 1.0 and perm.tolist() == list(range(len(imgs)))
    assert torch.equal(gen.get_state(), state)  # earlier runs without mixing resume on the same stream
    with pytest.raises(ValueError):
        mix_batch(imgs, _no_aug(mix_prob=1.0, mix_mode="blend"), gen)


def test_a_mixed_batch_counts_each_label_by_its_share():
    import torch
    import torch.nn.functional as F

    logits = torch.randn(6, 7, generator=torch.Generator().manual_seed(0))
    labels = torch.tensor([0, 1, 2, 3, 4, 5])
    perm = torch.tensor([5, 4, 3, 2, 1, 0])
    w = torch.linspace(0.5, 2.0, 7)
    own = F.cross_entropy(logits, labels, weight=w, label_smoothing=0.1)
    partner = F.cross_entropy(logits, labels[perm], weight=w, label_smoothing=0.1)
    assert abs(float(own - partner)) > 0.05
    assert torch.allclose(torch_train.label_loss(logits, labels, perm, 1.0, w, 0.1), own)
    assert torch.allclose(torch_train.label_loss(logits, labels, perm, 0.25, w, 0.1), 0.25 * own + 0.75 * partner)


def test_the_trainer_mixes_batches_when_asked(small_fer, tmp_path):
    """The same seeded one-epoch run with and without mixing: the weights differ only if the trainer
    mixes (mix_prob 0 draws no random number, so the two runs are otherwise the same)."""
    import torch

    def weights(**mix):
        run = tmp_path / ("mix" if mix else "plain")
        torch_train.train(_no_aug(epochs=1, batch_size=32, **mix), run, small_fer, log=lambda m: None)
        return torch_train.load_checkpoint(run / "last.pt")["model"]

    plain = weights()
    mixed = weights(mix_prob=1.0, mix_mode="cutmix")
    differs = [k for k in plain if plain[k].is_floating_point() and not torch.equal(plain[k], mixed[k])]
    assert differs, "mix_prob 1 trained exactly like mix_prob 0"


def test_kd_loss_is_zero_on_the_teacher_and_pulls_towards_it():
    import torch

    from emotion.train.torch_teacher import kd_loss

    teacher = torch.log_softmax(torch.tensor([[2.0, 0.1, -1.0, 0.5, 0.0, -0.5, 1.0]]), 1)
    same = teacher + 3.0  # logits equal up to a constant: the same distribution
    assert abs(float(kd_loss(same, teacher, 2.0))) < 1e-6
    student = torch.zeros(1, 7, requires_grad=True)
    loss = kd_loss(student, teacher, 2.0)
    assert float(loss.detach()) > 0.05
    loss.backward()
    # gradient descent raises the logits the teacher prefers and lowers the others
    assert int((-student.grad).argmax()) == int(teacher.argmax()) == 0
    assert int((-student.grad).argmin()) == int(teacher.argmin()) == 2


def test_distillation_makes_the_student_agree_with_the_teacher(small_fer, tmp_path):
    """The same seeded run on faces whose labels were shuffled, with and without the teacher's term.
    Without it the network learns the shuffled labels; with it (kd_weight 1, labels ignored) it
    answers as the teacher does on most of its faces."""
    from emotion.train import data as fdata
    from emotion.train.torch_teacher import load_teacher

    crops, labels = fdata.load_split("train", small_fer)
    shuffled = tmp_path / "shuffled"
    shuffled.mkdir()
    _write_npz_xz(shuffled / fdata.TRAIN_FILE, crops, np.random.default_rng(3).permutation(labels))
    _write_npz_xz(shuffled / fdata.VAL_FILE, *fdata.load_split("val", small_fer))
    teacher_file = config.MODELS_DIR / fer_vgg.MODEL_FILE
    x = fernet.preprocess(crops)[:, None]
    wanted = load_teacher(teacher_file).predict(crops).argmax(1)

    def agreement(**kd) -> float:
        cfg = _no_aug(epochs=15, batch_size=32, lr=0.05, stage_dropout=(0.0,) * 4, head_dropout=0.0, **kd)
        run = tmp_path / ("kd" if kd else "plain")
        torch_train.train(cfg, run, shuffled, log=lambda m: None)
        model, _, _ = torch_export.load_run_model(run / "last.pt")
        return float((torch_export.torch_probs(model, x).argmax(1) == wanted).mean())

    plain = agreement()
    taught = agreement(teacher_onnx=str(teacher_file), kd_weight=1.0, kd_temperature=2.0)
    assert taught > 0.45 and taught > plain + 0.2, (taught, plain)


def test_a_teacher_of_several_models_is_their_weighted_average(small_fer):
    """``teacher_onnx="A:3,B"`` teaches (3 * p_A + p_B) / 4; paths with a drive-like colon still parse."""
    from emotion.classify.fer_vgg import FerVggClassifier
    from emotion.train import data as fdata
    from emotion.train.torch_teacher import load_teacher, parse_teacher_spec

    assert parse_teacher_spec("a.onnx:3, b.onnx") == [("a.onnx", 3.0), ("b.onnx", 1.0)]
    assert parse_teacher_spec("C:/m/a.onnx:0.5") == [("C:/m/a.onnx", 0.5)]
    assert parse_teacher_spec("C:/m/a.onnx") == [("C:/m/a.onnx", 1.0)]
    with pytest.raises(ValueError):
        parse_teacher_spec(" , ")
    crops = fdata.load_split("val", small_fer)[0][:40]
    a, b = config.MODELS_DIR / fer_vgg.MODEL_FILE, config.MODELS_DIR / fer_vgg.PARTNER_FILE
    pa, pb = (FerVggClassifier(model_file=f, tta=False).predict(crops) for f in (a, b))
    assert float(np.abs(pa - pb).max()) > 0.05  # two different networks, so the weights matter
    got = load_teacher(f"{a}:3,{b}").predict(crops)
    np.testing.assert_allclose(got, (3 * pa + pb) / 4, atol=1e-6)
    with pytest.raises(ValueError):
        load_teacher(f"{a}:0")
