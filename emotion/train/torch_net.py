"""The PyTorch emotion network ("fer_vgg") and every training hyper-parameter, in one dataclass.

A VGG-style CNN on the 48x48 grayscale FER-framed crop: each stage is ``convs_per_stage`` x (3x3 conv
without bias -> batch norm -> ReLU), then 2x2 max-pool and dropout; after the last stage a global average
pool, dropout and one linear layer to the 7 FER classes. Only these layer types, so the ONNX export is
plain (Conv, BatchNormalization folded, Relu, MaxPool, GlobalAveragePool, Flatten, Gemm) and ONNX Runtime's
int8 static quantisation applies to every convolution.

Imports torch: training-only (``requirements-train.txt``); the app never imports this module.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn

from emotion.train.config_io import JsonConfig


@dataclass
class TorchTrainConfig(JsonConfig):
    # --- data / preprocessing (emotion.classify.fer_cnn.preprocess) ------------------------------
    input_size: int = 48
    # --- architecture: 117 M MACs per face -------------------------------------------------------
    widths: tuple[int, ...] = (32, 64, 128, 256)
    convs_per_stage: tuple[int, ...] = (2, 2, 2, 2)
    stage_dropout: tuple[float, ...] = (0.0, 0.1, 0.2, 0.3)
    head_dropout: float = 0.4
    bn_momentum: float = 0.1  # PyTorch convention (Keras 0.99 == PyTorch 0.01); 0.1 suits short runs
    # --- optimisation -----------------------------------------------------------------------------
    epochs: int = 60
    batch_size: int = 128
    lr: float = 0.1  # peak learning rate of SGD (Nesterov)
    momentum: float = 0.9
    weight_decay: float = 5e-4  # on conv/linear weights only (not on batch norm or biases)
    warmup_epochs: float = 2.0
    min_lr_frac: float = 0.002  # cosine decays to lr * min_lr_frac
    label_smoothing: float = 0.1
    class_weight_power: float = 0.5  # 0: unweighted, 1: fully balanced (inverse frequency)
    # --- augmentation (emotion.train.torch_aug, whole batches) --------------------------------------
    aug_shift: float = 0.1  # fraction of the side
    aug_rotate_deg: float = 15.0
    aug_scale: float = 0.15
    aug_flip: bool = True
    aug_gamma: float = 0.35  # log-gamma range
    aug_contrast: float = 0.3
    aug_brightness: float = 0.1  # additive, fraction of the range
    aug_blur_prob: float = 0.15  # a 3x3 blur: run-time crops are resampled from photos of any size
    aug_lowres_prob: float = 0.0  # downscale to aug_lowres_min..S px and back: faces of 20-40 px in photos
    aug_lowres_min: int = 16
    aug_erase_prob: float = 0.4
    aug_erase_max_frac: float = 0.15
    # --- mixing of pairs of faces (emotion.train.torch_aug.mix_batch; the loss weighs both labels) ------
    mix_prob: float = 0.0  # share of batches mixed (0: off)
    mix_mode: str = "cutmix"  # "cutmix": a box of another face pasted in; "mixup": the two faces blended
    mix_alpha: float = 1.0  # the mixing share lam ~ Beta(alpha, alpha), one per batch
    # --- inference / selection ------------------------------------------------------------------------
    tta_flip: bool = True  # selection and the photo path average with the mirrored crop
    # --- machine ------------------------------------------------------------------------------------
    precision: str = "auto"  # "auto": bf16 autocast where the CPU/GPU supports it, else fp32; "bf16"; "fp32"
    threads: int = 2  # torch.set_num_threads on the CPU
    channels_last: bool = True
    # --- start -------------------------------------------------------------------------------------
    init_onnx: str = ""  # start from this ONNX model of the same architecture (emotion.train.torch_init)
    # --- distillation (emotion.train.torch_teacher) -----------------------------------------------------
    teacher_onnx: str = ""  # exported model(s) the network also learns from: "A.onnx[:W],B.onnx[:W]"
    kd_weight: float = 0.0  # share of the teacher's term in the loss (0: labels only)
    kd_temperature: float = 2.0
    # --- reproducibility ----------------------------------------------------------------------------
    seed: int = 1
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> "TorchTrainConfig":
        return cls._from_dict(d, strict=True)


#: named presets; ``python -m emotion train --preset NAME``
PRESETS: dict[str, dict] = {
    "default": {},
    # a smoke run: tiny network, one epoch
    "tiny": {"widths": (8, 16, 32, 64), "convs_per_stage": (1, 1, 1, 1), "epochs": 1, "batch_size": 32,
             "warmup_epochs": 0.2},
    # the first round's network (54 M MACs) with this recipe: a live-path candidate
    "small": {"widths": (24, 48, 96, 192), "convs_per_stage": (1, 2, 2, 2)},
}


def make_config(preset: str = "default", **overrides) -> TorchTrainConfig:
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose from {sorted(PRESETS)}")
    d = TorchTrainConfig().to_dict()
    d.update(PRESETS[preset])
    d.update({k: v for k, v in overrides.items() if v is not None})
    return TorchTrainConfig.from_dict(d)


class FerVgg(nn.Module):
    """float32 (N, 1, S, S) preprocessed crops -> (N, 7) logits."""

    def __init__(self, cfg: TorchTrainConfig):
        super().__init__()
        if not (len(cfg.widths) == len(cfg.convs_per_stage) == len(cfg.stage_dropout)):
            raise ValueError("widths, convs_per_stage and stage_dropout must have the same length")
        layers: list[nn.Module] = []
        c_in = 1
        for width, n_conv, drop in zip(cfg.widths, cfg.convs_per_stage, cfg.stage_dropout):
            for _ in range(n_conv):
                layers += [nn.Conv2d(c_in, width, 3, padding=1, bias=False),
                           nn.BatchNorm2d(width, eps=1e-3, momentum=cfg.bn_momentum), nn.ReLU(inplace=True)]
                c_in = width
            layers.append(nn.MaxPool2d(2))
            if drop:
                layers.append(nn.Dropout(drop))
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.drop = nn.Dropout(cfg.head_dropout) if cfg.head_dropout else nn.Identity()
        self.fc = nn.Linear(c_in, 7)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.features(x)).flatten(1)
        return self.fc(self.drop(x))


def build_model(cfg: TorchTrainConfig) -> FerVgg:
    return FerVgg(cfg)


def count_macs(cfg: TorchTrainConfig) -> int:
    """Multiply-accumulates of one forward pass (convs + linear)."""
    s, c_in, macs = cfg.input_size, 1, 0
    for width, n_conv in zip(cfg.widths, cfg.convs_per_stage):
        for _ in range(n_conv):
            macs += s * s * 9 * c_in * width
            c_in = width
        s //= 2
    return macs + c_in * 7


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
