"""Images for inference: files, PIL images, tensors and loaders → preprocessed arrays.

The one place where deployment (export verification, quantization calibration and
evaluation, prediction) turns images into the ``[N, C, H, W]`` float32 batch a model
expects. Preprocessing is always :func:`cnnzoo.data.eval_transform` of a config (a
model's ``pretrained_cfg`` or an export's metadata), so every backend sees the same
pixels.

- :func:`load_images`: image files, PIL images or ``uint8`` tensors → a batch;
- :func:`image_files`: the image files under a folder (by :data:`IMAGE_SUFFIXES`);
- :func:`as_data`: any accepted kind of data (``"digits"``, a folder, tensors, a
  ``Dataset`` or ``DataLoader``) → :class:`ImageData`;
- :func:`digits_split`: a prefix of :func:`cnnzoo.data.digits`' train or test split;
- :func:`sample_digits`: ``n`` digits of varied classes at any input size.

Example:
    >>> from cnnzoo.data.images import digits_split
    >>> x, y = digits_split({"input_size": (1, 32, 32), "mean": (0.5,), "std": (0.5,)},
    ...                     "test", limit=4)
    >>> x.shape, x.dtype.name, y.shape
    ((4, 1, 32, 32), 'float32', (4,))
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import torch
from torch.utils.data import Dataset

from cnnzoo._utils import per_channel
from cnnzoo.data.datasets import eval_transform
from cnnzoo.errors import DataError

__all__ = [
    "IMAGE_SUFFIXES",
    "ImageData",
    "ImageSource",
    "as_data",
    "digits_split",
    "image_files",
    "load_images",
    "sample_digits",
]

IMAGE_SUFFIXES: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif",
                                   ".tiff")

_Array: TypeAlias = torch.Tensor | np.ndarray
ImageSource: TypeAlias = (str | os.PathLike[str] | _Array | tuple[_Array, _Array]
                          | Iterable[Any] | Dataset[Any])
"""What :func:`as_data` accepts: ``"digits"``, a folder or file, preprocessed images
``[N, C, H, W]`` (with labels as a pair), or images / ``(image, label)`` pairs from a
list, a ``Dataset`` or a ``DataLoader``."""


@dataclass
class ImageData:
    """Preprocessed images ``x`` ``[N, C, H, W]``, their labels ``y`` (or ``None``), and where
    they came from (``source``, for messages)."""

    x: np.ndarray
    y: np.ndarray | None
    source: str


# -- images ------------------------------------------------------------------------------


def load_images(items: Iterable[Any], cfg: Mapping[str, Any]) -> np.ndarray:
    """Image files, PIL images or ``uint8`` tensors → a preprocessed ``[N, C, H, W]`` array.

    Uses :func:`cnnzoo.data.eval_transform` with ``cfg`` (a ``pretrained_cfg`` or the
    metadata of an export), so eager and ONNX backends see identical inputs.

    Args:
        items: image paths, PIL images or ``uint8`` tensors ``[C, H, W]``.
        cfg: the preprocessing (``input_size``, ``mean``, ``std``, ``crop_pct``,
            ``interpolation``).

    Returns:
        a float32 array ``[N, C, H, W]`` (``N = 0`` for no items).

    Raises:
        DataError: a path that does not exist or is not an image.
    """
    transform = eval_transform(cfg)
    out = [transform(_open_image(item)).numpy() for item in items]
    if not out:
        return np.zeros((0, *cfg.get("input_size", (3, 224, 224))), dtype=np.float32)
    return np.stack(out).astype(np.float32)


def _open_image(item: Any) -> Any:
    return read_image_file(item) if isinstance(item, str | os.PathLike) else item


def read_image_file(path: str | os.PathLike[str]) -> Any:
    """An image file → a loaded PIL image in ``'L'`` or ``'RGB'`` mode.

    Raises:
        DataError: no such file, or a file that is not an image.
    """
    from PIL import Image

    path = Path(path)
    if not path.is_file():
        raise DataError(f"image {str(path)!r}: no such file")
    try:
        with Image.open(path) as image:
            image.load()
            return image if image.mode in ("L", "RGB") else image.convert("RGB")
    except OSError as exc:
        raise DataError(f"{str(path)!r} is not an image ({', '.join(IMAGE_SUFFIXES)}): "
                        f"{exc}") from exc


def image_files(folder: str | os.PathLike[str]) -> list[Path]:
    """The image files under ``folder`` (recursively, by suffix), sorted."""
    return sorted(p for p in Path(folder).rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)


# -- any kind of data ----------------------------------------------------------------------


def as_data(data: ImageSource | None, cfg: Mapping[str, Any], *, limit: int | None, what: str,
            split: str = "train", dynamic_hw: bool = False) -> ImageData:
    """Calibration or evaluation data of any accepted kind → preprocessed arrays.

    Args:
        data: ``"digits"`` (the digits ``split``), a folder or an image file, a float
            array/tensor ``[N, C, H, W]`` (already preprocessed), a pair ``(x, y)`` of
            them, or an iterable (``Dataset``, ``DataLoader``, list) of images or of
            ``(image, label)`` pairs.
        cfg: the model's preprocessing (see :func:`load_images`).
        limit: use at most this many samples (``None``: all).
        what: what the data are for (``"calibration"``), used in messages.
        split: the digits split for ``data="digits"``: ``"train"`` or ``"test"``.
        dynamic_hw: the model takes any height and width, so tensors of another size
            than ``cfg["input_size"]`` are accepted.

    Returns:
        an :class:`ImageData`.

    Raises:
        DataError: no data, a missing path, an empty set, or images of the wrong size.
    """
    if data is None:
        raise DataError(f"no {what} data given")
    if isinstance(data, str) and data == "digits":
        x, y = digits_split(cfg, split, limit)
        found = ImageData(x, y, f"digits {split} split")
    elif isinstance(data, str | os.PathLike):
        found = _from_path(Path(data), cfg, limit, what)
    elif isinstance(data, torch.Tensor | np.ndarray):
        x = _numpy(data)
        x = (x[None] if x.ndim == 3 else x)[:limit or None]
        found = ImageData(x.astype(np.float32), None, "tensor")
    elif isinstance(data, tuple) and len(data) == 2 and all(
            isinstance(d, torch.Tensor | np.ndarray) for d in data):
        x, y = (_numpy(d)[:limit or None] for d in data)
        found = ImageData(x.astype(np.float32), y.astype(np.int64), "tensors")
    else:
        found = _from_iterable(data, cfg, limit)
    return _checked(found, cfg, what, dynamic_hw)


def _numpy(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _from_path(path: Path, cfg: Mapping[str, Any], limit: int | None, what: str) -> ImageData:
    if not path.exists():
        raise DataError(f"{what} data {str(path)!r}: no such file or directory")
    files = image_files(path) if path.is_dir() else [path]
    return ImageData(load_images(files[:limit or None], cfg), None, f"images in {path}")


def _from_iterable(data: Any, cfg: Mapping[str, Any], limit: int | None) -> ImageData:
    """A ``DataLoader`` (batches), a ``Dataset`` (samples) or a list of images."""
    try:
        items = iter(data)  # a map-style Dataset iterates through __getitem__
    except TypeError:
        raise DataError(f"cannot read images from a {type(data).__name__}; give 'digits', a "
                        "folder, a list of images, a tensor [N, C, H, W] or a DataLoader"
                        ) from None
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    images: list[Any] = []
    count = 0
    for item in items:
        if limit and count >= limit:
            break
        pair = isinstance(item, tuple | list) and len(item) == 2
        x, y = (item[0], item[1]) if pair else (item, None)
        if isinstance(x, torch.Tensor) and x.is_floating_point():
            arr = _numpy(x).astype(np.float32)
            arr = arr if arr.ndim == 4 else arr[None]
            xs.append(arr)
            count += len(arr)
            if y is not None:
                ys.append(_numpy(y).reshape(-1))
        else:
            images.append(x)
            count += 1
    if images:
        xs.append(load_images(images, cfg))
    if not xs:
        return ImageData(np.zeros((0, 1, 1, 1), np.float32), None, "empty")
    x_all = np.concatenate(xs)
    y_all = np.concatenate(ys).astype(np.int64) if ys and sum(map(len, ys)) == len(
        x_all) else None
    if limit:
        x_all, y_all = x_all[:limit], (y_all[:limit] if y_all is not None else None)
    return ImageData(x_all, y_all, type(data).__name__)


def _checked(data: ImageData, cfg: Mapping[str, Any], what: str, dynamic_hw: bool
             ) -> ImageData:
    if len(data.x) == 0:
        raise DataError(f"the {what} set is empty ({data.source}); give at least one image")
    if data.x.ndim != 4:
        raise DataError(f"{what} data must be images [N, C, H, W], got shape {data.x.shape}")
    expected = tuple(int(v) for v in cfg.get("input_size") or ())
    got = tuple(int(v) for v in data.x.shape[1:])
    if expected and got != expected and not dynamic_hw:
        raise DataError(
            f"{what} images have size {'x'.join(map(str, got))} (C x H x W) but the model "
            f"expects {'x'.join(map(str, expected))}; pass images (files, PIL) to have them "
            "resized, or tensors of the right size"
        )
    return data


# -- the digits --------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 1,797 digits (pixels 0…16 ``[N, 8, 8]``, labels), read once."""
    from sklearn.datasets import load_digits

    data = load_digits()
    images, target = np.asarray(data.images), np.asarray(data.target)
    images.flags.writeable = target.flags.writeable = False  # shared by every caller
    return images, target


def _resized_digits(pixels: np.ndarray, input_size: Sequence[int]) -> torch.Tensor:
    """Digits ``[N, 8, 8]`` (0…16) in 0…1, resized bilinearly and repeated over the channels."""
    channels, height, width = (int(v) for v in input_size)
    images = torch.tensor(pixels, dtype=torch.float32).unsqueeze(1) / 16.0
    if (height, width) != (8, 8):
        images = torch.nn.functional.interpolate(
            images, size=(height, width), mode="bilinear", align_corners=False).clamp_(0, 1)
    return images.expand(-1, channels, -1, -1).contiguous()


def _normalized(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]
                ) -> torch.Tensor:
    channels = images.shape[1]
    m = torch.tensor(per_channel(mean, channels)).view(1, -1, 1, 1)
    s = torch.tensor(per_channel(std, channels)).view(1, -1, 1, 1)
    return (images - m) / s


def digits_split(cfg: Mapping[str, Any], split: str = "train", limit: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The first ``limit`` images of :func:`cnnzoo.data.digits`' train or test split.

    The same split and the same pixels as ``digits(input_size, model=...)`` (seed 0,
    20 % test, stratified; bilinear resize, channel repeat, the model's mean/std), but
    only the images asked for are resized — at 224x224 all 1,797 would take a gigabyte.

    Args:
        cfg: the preprocessing: ``input_size`` (required), ``mean`` and ``std``.
        split: ``"train"`` or ``"test"``.
        limit: the number of images (``None``: the whole split).

    Returns:
        images ``[N, C, H, W]`` (float32) and labels ``[N]`` (int64).

    Raises:
        DataError: an unknown split, or a config without ``input_size``.
    """
    from sklearn.model_selection import train_test_split

    if split not in ("train", "test"):
        raise DataError(f"digits split {split!r} is not one of train, test")
    if not cfg.get("input_size"):
        raise DataError("the digits need the model's input_size (C, H, W)")
    pixels, target = _digits()
    train, test = train_test_split(np.arange(len(target)), test_size=0.2, random_state=0,
                                   stratify=target)
    index = train if split == "train" else test
    if limit:
        index = index[:limit]  # the split is shuffled: any prefix mixes the classes
    images = _normalized(_resized_digits(pixels[index], cfg["input_size"]),
                         cfg.get("mean") or (0.5,), cfg.get("std") or (0.5,))
    return images.numpy().astype(np.float32), target[index].astype(np.int64)


def sample_digits(n: int, input_size: Sequence[int], mean: Sequence[float] | None = None,
                  std: Sequence[float] | None = None) -> torch.Tensor:
    """``n`` real handwritten digits (of varied classes) as a ``[n, C, H, W]`` batch.

    Evenly spaced over the 1,797 digits, in 0…1, normalised when ``mean`` and ``std``
    are both given.

    Example:
        >>> tuple(sample_digits(3, (3, 16, 16)).shape)
        (3, 3, 16, 16)
    """
    pixels, _ = _digits()
    images = _resized_digits(pixels[np.linspace(0, len(pixels) - 1, n).astype(int)],
                             input_size)
    if mean is not None and std is not None:
        images = _normalized(images, mean, std)
    return images
