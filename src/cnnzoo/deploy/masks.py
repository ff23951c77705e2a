"""Segmentation masks as files: the VOC palette, palette PNGs and colour overlays.

The pieces :meth:`cnnzoo.deploy.predict.Predictor.masks` and ``predict(..., out=DIR)``
are made of, usable on their own:

- :func:`mask_transform`: the preprocessing of a mask prediction — the whole image
  resized to the model's input size (no centre crop, so every pixel gets a class), then
  the model's mean and std, as :func:`cnnzoo.data.eval_transform` does;
- :func:`logits_to_mask`: logits ``[C, h, w]`` → class ids ``[H, W]`` at the image's
  size: the logits are resized *bilinearly* to the image's size, then the argmax is
  taken (smoother edges than a nearest resize of the argmax);
- :func:`voc_palette`: Pascal VOC's colour map, by its bit-interleaving formula;
- :func:`mask_png` and :func:`overlay`: a ``'P'`` (palette) image whose pixel values are
  the class ids, and the image blended with the coloured mask (class 0, the background,
  left as it is);
- :func:`write_png`: atomic PNG writing (a temporary file renamed over the target).

Example:
    >>> import numpy as np
    >>> from cnnzoo.deploy.masks import mask_png, voc_palette
    >>> voc_palette()[[0, 1, 2, 15, 255]].tolist()
    [[0, 0, 0], [128, 0, 0], [0, 128, 0], [192, 128, 128], [224, 224, 192]]
    >>> png = mask_png(np.array([[0, 1], [2, 15]], dtype=np.uint8))
    >>> png.mode, np.asarray(png).tolist()
    ('P', [[0, 1], [2, 15]])
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from cnnzoo._utils import per_channel, staged_path
from cnnzoo.data.datasets import MatchChannels
from cnnzoo.data.images import read_image_file
from cnnzoo.errors import DataError, PredictError

__all__ = [
    "DEFAULT_ALPHA",
    "MAX_CLASSES",
    "class_shares",
    "logits_to_mask",
    "mask_png",
    "mask_transform",
    "open_image",
    "overlay",
    "voc_palette",
    "write_png",
]

MAX_CLASSES = 256
"""A palette PNG holds class ids 0…255."""

DEFAULT_ALPHA = 0.5
"""The overlay's opacity of the mask colours."""


def voc_palette(n: int = MAX_CLASSES) -> np.ndarray:
    """Pascal VOC's colour map: ``[n, 3]`` ``uint8`` RGB, one row per class id.

    Bit ``3k + c`` of the class id becomes bit ``7 - k`` of channel ``c`` (red, green,
    blue): class 1 is ``(128, 0, 0)``, class 2 ``(0, 128, 0)``, class 15 ``(192, 128,
    128)``, and 255 — VOC's "void" — ``(224, 224, 192)``.
    """
    if not 1 <= n <= MAX_CLASSES:
        raise PredictError(f"a palette has 1 to {MAX_CLASSES} colours, not {n}")
    index = np.arange(n)
    palette = np.zeros((n, 3), dtype=np.int64)
    for bit in range(8):
        for channel in range(3):
            palette[:, channel] |= ((index >> (3 * bit + channel)) & 1) << (7 - bit)
    return palette.astype(np.uint8)


def open_image(item: Any) -> Any:
    """An image file, PIL image or image tensor (``uint8``, or float in 0…1) → a PIL image
    in ``'L'`` or ``'RGB'`` mode.

    Raises:
        PredictError: a path that does not exist or is not an image, or an array that is
            not ``[C, H, W]`` with 1 or 3 channels.
    """
    from PIL import Image

    image: Image.Image
    if isinstance(item, str | os.PathLike):
        try:
            image = read_image_file(item)
        except DataError as exc:
            raise PredictError(str(exc)) from exc
    elif isinstance(item, Image.Image):
        image = item
    else:
        from torchvision.transforms.v2.functional import to_pil_image

        tensor = torch.as_tensor(item)
        if tensor.ndim != 3 or tensor.shape[0] not in (1, 3):
            raise PredictError(f"an image tensor is [C, H, W] with 1 or 3 channels, not "
                               f"{list(tensor.shape)}")
        image = to_pil_image(tensor)
    return image if image.mode in ("L", "RGB") else image.convert("RGB")


def mask_transform(cfg: Mapping[str, Any]) -> Any:
    """The preprocessing of a mask prediction (``torchvision.transforms.v2``).

    Unlike :func:`cnnzoo.data.eval_transform` (shorter side, then a centre crop), the
    whole image is resized to the model's input size, so that every pixel of the image
    gets a class; the aspect ratio is not kept. Interpolation, channel matching, mean and
    std are the same as eval_transform's, all from ``cfg`` (a ``pretrained_cfg`` or an
    export's metadata), so every backend sees the same input.
    """
    from torchvision.transforms import InterpolationMode, v2

    channels, height, width = (int(v) for v in cfg.get("input_size", (3, 224, 224)))
    interpolation = {
        "bilinear": InterpolationMode.BILINEAR, "bicubic": InterpolationMode.BICUBIC,
        "nearest": InterpolationMode.NEAREST,
    }.get(str(cfg.get("interpolation", "bilinear")), InterpolationMode.BILINEAR)
    return v2.Compose([
        v2.ToImage(),
        v2.Resize((height, width), interpolation=interpolation, antialias=True),
        v2.ToDtype(torch.float32, scale=True),
        MatchChannels(channels),
        v2.Normalize(per_channel(cfg.get("mean", (0.5,)), channels),
                     per_channel(cfg.get("std", (0.5,)), channels)),
    ])


def logits_to_mask(logits: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """One image's logits ``[C, h, w]`` → its class ids ``[H, W]`` at ``size = (H, W)``.

    The logits are resized bilinearly (``align_corners=False``) before the argmax, so a
    boundary falls where the class scores cross rather than on the model's pixel grid.
    The ids are ``uint8`` for up to 256 classes, ``int64`` beyond.
    """
    scores = torch.from_numpy(np.ascontiguousarray(logits, dtype=np.float32))
    if tuple(scores.shape[-2:]) != tuple(size):
        scores = torch.nn.functional.interpolate(scores[None], size=tuple(size),
                                                 mode="bilinear", align_corners=False)[0]
    mask = scores.argmax(0).numpy()
    return mask.astype(np.uint8) if logits.shape[0] <= MAX_CLASSES else mask


def class_shares(mask: np.ndarray, num_classes: int) -> np.ndarray:
    """The share of the mask's pixels in each class ``0 … num_classes - 1``."""
    counts = np.bincount(mask.ravel().astype(np.int64), minlength=num_classes)
    return counts / max(mask.size, 1)


def _check_ids(mask: np.ndarray) -> None:
    if mask.size and int(mask.max()) >= MAX_CLASSES:
        raise PredictError(f"a palette PNG holds class ids 0…{MAX_CLASSES - 1}; this mask "
                           f"has class {int(mask.max())}")


def mask_png(mask: np.ndarray) -> Any:
    """Class ids ``[H, W]`` → a PIL ``'P'`` image: pixel values are the ids, with
    :func:`voc_palette` as its palette (so it opens in colour)."""
    from PIL import Image

    _check_ids(mask)
    image = Image.fromarray(np.ascontiguousarray(mask, dtype=np.uint8), mode="P")
    image.putpalette(voc_palette().ravel().tolist())
    return image


def overlay(image: Any, mask: np.ndarray, *, alpha: float = DEFAULT_ALPHA,
            background: int | None = 0) -> Any:
    """The image (RGB) blended with the mask's colours: ``(1 - alpha) · pixel + alpha ·
    colour`` where the class is not ``background``, the pixel unchanged where it is.

    Args:
        image: a PIL image of the mask's size.
        mask: class ids ``[H, W]``.
        alpha: the colours' opacity, 0 (the image) … 1 (the mask).
        background: the class left uncoloured (``None``: colour every class).
    """
    from PIL import Image

    if not 0.0 <= alpha <= 1.0:
        raise PredictError(f"alpha is the overlay's opacity, 0…1, not {alpha}")
    _check_ids(mask)
    rgb = np.asarray(image.convert("RGB"), dtype=np.float32)
    if rgb.shape[:2] != mask.shape:
        raise PredictError(f"the mask is {mask.shape[1]}x{mask.shape[0]} but the image "
                           f"{rgb.shape[1]}x{rgb.shape[0]}")
    colours = voc_palette()[mask.astype(np.int64)].astype(np.float32)
    blended = np.rint((1.0 - alpha) * rgb + alpha * colours)
    if background is not None:
        keep = mask == background
        blended[keep] = rgb[keep]
    return Image.fromarray(blended.astype(np.uint8), mode="RGB")


def write_png(image: Any, path: str | os.PathLike[str]) -> Path:
    """Save a PIL image as PNG at ``path`` atomically: a temporary file in the same
    folder, renamed over ``path`` once complete (no half-written file on error)."""
    with staged_path(path) as tmp:
        image.save(tmp, format="PNG")
    return Path(path)
