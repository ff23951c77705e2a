"""Input and option checks shared by every explain method.

Each check either returns the value in the form the methods use (a batch on the
model's device, an int, a baseline batch) or raises :class:`~cnnzoo.errors.ExplainError`
saying what was wrong and what is accepted.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from cnnzoo.errors import ExplainError

__all__ = [
    "baseline_like",
    "check_images",
    "expected_channels",
    "model_config",
    "model_device",
    "positive_int",
    "positive_pair",
]


def model_config(model: nn.Module) -> Mapping[str, Any]:
    """``model.pretrained_cfg`` as a mapping (a ``ModelConfig`` or a dict), ``{}`` if none."""
    cfg = getattr(model, "pretrained_cfg", None)
    return cfg if isinstance(cfg, Mapping) else {}


def model_device(model: nn.Module, fallback: torch.device) -> torch.device:
    """The device of the model's first parameter (or buffer); ``fallback`` if it has none."""
    for param in model.parameters():
        return param.device
    for buffer in model.buffers():
        return buffer.device
    return fallback


def expected_channels(model: nn.Module) -> int | None:
    """The input channels the model takes (``in_chans`` or its config), ``None`` if unknown."""
    chans = getattr(model, "in_chans", None)
    if isinstance(chans, int):
        return chans
    size = model_config(model).get("input_size")
    if size and len(size) == 3:
        return int(size[0])
    return None


def check_images(model: nn.Module, images: object) -> torch.Tensor:
    """A float batch ``[B, C, H, W]`` with the model's channel count, on its device.

    Args:
        model: the model to explain (gives the device, dtype and channel count).
        images: what the caller passed as the batch.

    Returns:
        ``images`` detached, on the model's device and in its floating dtype.

    Raises:
        ExplainError: not a tensor, not 4-D, not floating point, empty, or with a
            channel count the model does not take.
    """
    if not isinstance(images, torch.Tensor):
        raise ExplainError(
            f"images must be a float tensor [B, C, H, W]; got {type(images).__name__} "
            "(preprocess with cnnzoo.data.eval_transform(model.pretrained_cfg))"
        )
    if images.ndim != 4:
        hint = (" — one image? add the batch dimension: images.unsqueeze(0)"
                if images.ndim == 3 else "")
        raise ExplainError(
            f"images must be a batch [B, C, H, W]; got shape {tuple(images.shape)}{hint}"
        )
    if not images.is_floating_point():
        raise ExplainError(
            f"images must be floating point (normalised as the model expects); got "
            f"{images.dtype} — use cnnzoo.data.eval_transform(model.pretrained_cfg)"
        )
    if images.shape[0] == 0 or images.shape[-1] == 0 or images.shape[-2] == 0:
        raise ExplainError(f"images is empty: shape {tuple(images.shape)}")
    chans = expected_channels(model)
    if chans is not None and images.shape[1] != chans:
        raise ExplainError(
            f"the model takes {chans}-channel images; got {images.shape[1]} channels "
            f"(shape {tuple(images.shape)})"
        )
    dtype = next((p.dtype for p in model.parameters() if p.is_floating_point()), images.dtype)
    return images.detach().to(device=model_device(model, images.device), dtype=dtype)


def positive_int(value: object, what: str) -> int:
    """``value`` if it is an int ≥ 1 (not a bool); else an error naming ``what``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExplainError(f"{what} must be a positive int, got {value!r}")
    return value


def positive_pair(value: object, what: str) -> tuple[int, int]:
    """``(h, w)`` from one positive int or a pair of them."""
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return positive_int(value[0], what), positive_int(value[1], what)
    v = positive_int(value, what)
    return v, v


def baseline_like(baseline: object, x: torch.Tensor, method: str) -> torch.Tensor:
    """A baseline batch like ``x`` from a number or a tensor broadcastable to it."""
    if isinstance(baseline, (int, float)) and not isinstance(baseline, bool):
        return torch.full_like(x, float(baseline))
    if isinstance(baseline, torch.Tensor):
        try:
            return baseline.to(device=x.device, dtype=x.dtype).expand_as(x)
        except RuntimeError:
            pass
    shape = tuple(baseline.shape) if isinstance(baseline, torch.Tensor) else type(baseline)
    raise ExplainError(
        f"{method}: baseline must be a number or a tensor broadcastable to the images "
        f"{tuple(x.shape)} ([C, H, W] or [B, C, H, W]); got {shape}"
    )
