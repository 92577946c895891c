"""Training-time augmentation of whole batches in torch (no per-image Python loop).

uint8 (N, S, S) crops in, uint8 (N, S, S) crops out, so that the network then sees exactly what the run
time gives it: :func:`emotion.classify.fer_cnn.preprocess` is applied afterwards by the trainer.

* geometry, one ``affine_grid``/``grid_sample`` call: shift, rotation, scale and horizontal flip. The
  run-time crop comes from a landmark alignment of a real photo, whose small errors (a few degrees, a few
  pixels, a few per cent of scale) this jitter covers;
* photometry: gamma, contrast and brightness jitter, an occasional 3x3 blur (photos are resampled from
  any resolution);
* resolution: an optional downscale to a random side (one per batch) and back, for the small faces of
  group photos and tight low-resolution crops whose 48 px crop is an upsampled 20-40 px face;
* random erasing: a rectangle of noise per chosen image, built with broadcast masks;
* mixing (:func:`mix_batch`, after :func:`augment`): CutMix (Yun et al. 2019: a box of another face of the
  batch pasted in) or mixup (Zhang et al. 2018: the two faces blended); the trainer weighs the two labels
  by the share ``lam`` of each face.

All random numbers come from the ``torch.Generator`` passed in (its state is checkpointed).
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def _u(gen: torch.Generator, n: int, lo: float, hi: float) -> torch.Tensor:
    return torch.rand(n, generator=gen) * (hi - lo) + lo


def _base_grid(h: int, w: int, device) -> torch.Tensor:
    """(h*w, 3) rows (x, y, 1) of pixel centres in normalised coordinates (align_corners=False), the same
    grid ``F.affine_grid`` builds; a batched einsum with the thetas is much cheaper on the CPU."""
    xs = (torch.arange(w, dtype=torch.float32, device=device) * 2 + 1) / w - 1
    ys = (torch.arange(h, dtype=torch.float32, device=device) * 2 + 1) / h - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx.reshape(-1), gy.reshape(-1), torch.ones(h * w, device=device)], 1)


def _blur3(x: torch.Tensor) -> torch.Tensor:
    """Separable [1 2 1]/4 blur with replicated edges, by shifted sums (a 1-channel conv2d is slow on CPU)."""
    p = torch.cat([x[..., :1], x, x[..., -1:]], dim=3)
    x = (p[..., :-2] + 2 * p[..., 1:-1] + p[..., 2:]) * 0.25
    p = torch.cat([x[..., :1, :], x, x[..., -1:, :]], dim=2)
    return (p[..., :-2, :] + 2 * p[..., 1:-1, :] + p[..., 2:, :]) * 0.25


def _lowres(x: torch.Tensor, cfg, gen: torch.Generator) -> torch.Tensor:
    """The chosen images go down to one random side (area average) and back up (bilinear), as a small
    face in a photo does on its way to the run-time crop."""
    n, _, h, w = x.shape
    side = int(torch.randint(int(cfg.aug_lowres_min), h, (1,), generator=gen))
    pick = (torch.rand(n, generator=gen) < cfg.aug_lowres_prob).to(x.device).view(n, 1, 1, 1)
    small = F.interpolate(x, size=(side, side * w // h), mode="area")
    back = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
    return torch.where(pick, back, x)


def augment(images: torch.Tensor, cfg, gen: torch.Generator) -> torch.Tensor:
    """``images``: uint8 (N, S, S) on any device; ``cfg``: a TorchTrainConfig (its ``aug_*`` fields)."""
    device = images.device
    n, h, w = images.shape
    x = images.to(torch.float32).unsqueeze(1) / 255.0  # (N,1,S,S)

    # --- geometry ------------------------------------------------------------------------------------
    ang = _u(gen, n, -cfg.aug_rotate_deg, cfg.aug_rotate_deg) * (math.pi / 180.0)
    zoom = _u(gen, n, 1.0 - cfg.aug_scale, 1.0 + cfg.aug_scale)
    tx = _u(gen, n, -cfg.aug_shift, cfg.aug_shift) * 2.0  # normalised coordinates span 2
    ty = _u(gen, n, -cfg.aug_shift, cfg.aug_shift) * 2.0
    flip = (torch.rand(n, generator=gen) < 0.5) if cfg.aug_flip else torch.zeros(n, dtype=torch.bool)
    sx = torch.where(flip, -1.0, 1.0)
    cos, sin = torch.cos(ang) / zoom, torch.sin(ang) / zoom
    theta = torch.stack([torch.stack([cos * sx, -sin, tx], 1),
                         torch.stack([sin * sx, cos, ty], 1)], 1).to(device)  # (N,2,3)
    grid = torch.einsum("pk,njk->npj", _base_grid(h, w, device), theta).view(n, h, w, 2)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)

    # --- photometry ------------------------------------------------------------------------------------
    if cfg.aug_gamma > 0:
        g = torch.exp(_u(gen, n, -cfg.aug_gamma, cfg.aug_gamma)).to(device).view(n, 1, 1, 1)
        x = x.clamp_min(1e-6) ** g
    if cfg.aug_contrast > 0:
        c = _u(gen, n, 1.0 - cfg.aug_contrast, 1.0 + cfg.aug_contrast).to(device).view(n, 1, 1, 1)
        mean = x.mean(dim=(2, 3), keepdim=True)
        x = (x - mean) * c + mean
    if cfg.aug_brightness > 0:
        x = x + _u(gen, n, -cfg.aug_brightness, cfg.aug_brightness).to(device).view(n, 1, 1, 1)
    if cfg.aug_blur_prob > 0:
        blurred = _blur3(x)
        pick = (torch.rand(n, generator=gen) < cfg.aug_blur_prob).to(device).view(n, 1, 1, 1)
        x = torch.where(pick, blurred, x)
    if getattr(cfg, "aug_lowres_prob", 0.0) > 0 and cfg.aug_lowres_min < h:
        x = _lowres(x, cfg, gen)
    x = x.clamp(0.0, 1.0)

    # --- random erasing ------------------------------------------------------------------------------
    if cfg.aug_erase_prob > 0:
        area = _u(gen, n, 0.02, cfg.aug_erase_max_frac) * (h * w)
        aspect = torch.exp(_u(gen, n, math.log(0.3), math.log(3.3)))
        eh = torch.sqrt(area * aspect).round().clamp(1, h)
        ew = torch.sqrt(area / aspect).round().clamp(1, w)
        y0 = (torch.rand(n, generator=gen) * (h - eh + 1)).floor()
        x0 = (torch.rand(n, generator=gen) * (w - ew + 1)).floor()
        on = torch.rand(n, generator=gen) < cfg.aug_erase_prob
        noise = torch.rand((n, 1, h, w), generator=gen).to(device)
        ys = torch.arange(h).view(1, h, 1)
        xs = torch.arange(w).view(1, 1, w)
        mask = ((ys >= y0.view(n, 1, 1)) & (ys < (y0 + eh).view(n, 1, 1))
                & (xs >= x0.view(n, 1, 1)) & (xs < (x0 + ew).view(n, 1, 1)) & on.view(n, 1, 1))
        x = torch.where(mask.unsqueeze(1).to(device), noise, x)

    return (x.squeeze(1) * 255.0 + 0.5).clamp(0, 255).to(torch.uint8)


MIX_MODES = ("cutmix", "mixup")


def mix_batch(images: torch.Tensor, cfg, gen: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Mix each uint8 (N, S, S) crop with another of the batch (a seeded permutation); one share ``lam``
    per batch, ``lam ~ Beta(mix_alpha, mix_alpha)``. Returns (mixed crops, the permutation, lam), lam being
    the exact share of the original face (for CutMix, the share of pixels outside the pasted box).
    With probability ``1 - mix_prob`` the batch is returned as it is, with lam 1."""
    n, h, w = images.shape
    if cfg.mix_mode not in MIX_MODES:
        raise ValueError(f"mix_mode {cfg.mix_mode!r}: choose from {MIX_MODES}")
    if cfg.mix_prob <= 0:  # draws nothing, so runs without mixing keep their random stream
        return images, torch.arange(n), 1.0
    perm = torch.randperm(n, generator=gen)
    if float(torch.rand(1, generator=gen)) >= cfg.mix_prob:
        return images, perm, 1.0
    # torch's Beta sampler takes no generator: a numpy draw seeded from the checkpointed generator
    lam = float(np.random.default_rng(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))
                .beta(cfg.mix_alpha, cfg.mix_alpha))
    other = images[perm]
    if cfg.mix_mode == "mixup":
        mixed = images.to(torch.float32) * lam + other.to(torch.float32) * (1.0 - lam)
        return (mixed + 0.5).clamp(0, 255).to(torch.uint8), perm, lam
    cut = math.sqrt(1.0 - lam)
    bh, bw = int(round(h * cut)), int(round(w * cut))
    cy = int(torch.randint(0, h, (1,), generator=gen))
    cx = int(torch.randint(0, w, (1,), generator=gen))
    y0, y1 = max(0, cy - bh // 2), min(h, cy + (bh + 1) // 2)
    x0, x1 = max(0, cx - bw // 2), min(w, cx + (bw + 1) // 2)
    mixed = images.clone()
    mixed[:, y0:y1, x0:x1] = other[:, y0:y1, x0:x1]
    return mixed, perm, 1.0 - (y1 - y0) * (x1 - x0) / (h * w)
