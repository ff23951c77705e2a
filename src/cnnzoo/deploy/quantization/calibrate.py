"""The images quantization calibrates and judges on, and the reader onnxruntime takes them from.

:func:`calibration_set` and :func:`evaluation_set` accept every kind of data
:func:`cnnzoo.data.images.as_data` does (``"digits"``, a folder, images, tensors, a
``Dataset`` or ``DataLoader``) and raise :class:`~cnnzoo.errors.QuantizeError` with
what was wrong; :func:`segmentation_evaluation_set` keeps a segmenter's masks
(``"digits"``: the ink masks of the test split); :class:`CalibrationReader` feeds an
array to onnxruntime in batches.

Example:
    >>> import numpy as np
    >>> from cnnzoo.deploy.quantization.calibrate import CalibrationReader
    >>> reader = CalibrationReader("input", np.zeros((5, 1, 8, 8), np.float32), batch=2)
    >>> [item["input"].shape[0] for item in reader]
    [2, 2, 1]
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from cnnzoo.data.datasets import digits_segmentation
from cnnzoo.data.images import ImageData, ImageSource, as_data
from cnnzoo.errors import DataError, QuantizeError

__all__ = ["CalibrationReader", "calibration_set", "evaluation_set",
           "segmentation_evaluation_set"]


class CalibrationReader:
    """An onnxruntime ``CalibrationDataReader`` over an array, in small batches."""

    def __init__(self, name: str, x: np.ndarray, batch: int) -> None:
        self.name, self.x, self.batch, self.i = name, x, max(1, batch), 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        """The next batch as onnxruntime's input feed, or ``None`` at the end."""
        if self.i >= len(self.x):
            return None
        chunk = self.x[self.i:self.i + self.batch]
        self.i += self.batch
        return {self.name: chunk}

    def rewind(self) -> None:
        """Start again from the first sample."""
        self.i = 0

    def __iter__(self) -> Iterator[dict[str, np.ndarray]]:
        while (item := self.get_next()) is not None:
            yield item


def _quantize_data(data: ImageSource | None, cfg: Mapping[str, Any], *, limit: int | None,
                   what: str, split: str, dynamic_hw: bool) -> ImageData:
    try:
        return as_data(data, cfg, limit=limit, what=what, split=split, dynamic_hw=dynamic_hw)
    except DataError as exc:
        raise QuantizeError(str(exc)) from exc


def calibration_set(data: ImageSource | None, cfg: Mapping[str, Any], *, limit: int | None,
                    dynamic_hw: bool = False) -> ImageData:
    """The preprocessed calibration images (``"digits"``: the train split).

    Raises:
        QuantizeError: no data, a missing path, an empty set or images of the wrong size.
    """
    return _quantize_data(data, cfg, limit=limit, what="calibration", split="train",
                          dynamic_hw=dynamic_hw)


def evaluation_set(data: ImageSource | None, cfg: Mapping[str, Any], *, limit: int | None,
                   dynamic_hw: bool = False) -> ImageData:
    """The preprocessed evaluation images and labels (``"digits"``: the test split).

    Raises:
        QuantizeError: no data, a missing path, an empty set or images of the wrong size.
    """
    return _quantize_data(data, cfg, limit=limit, what="evaluation", split="test",
                          dynamic_hw=dynamic_hw)


def _masks_pairs(data: Any, limit: int | None) -> tuple[np.ndarray, np.ndarray] | None:
    """``(images, masks)`` of a ``Dataset`` / ``DataLoader`` / list of ``(image, mask)``
    pairs — float images ``[C, H, W]`` (or batches of them) and integer masks one dimension
    less — or ``None`` when ``data`` is not that."""
    if isinstance(data, str | os.PathLike | np.ndarray | torch.Tensor | tuple):
        return None
    try:
        items = iter(data)
    except TypeError:
        return None
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    count = 0
    for item in items:
        if limit and count >= limit:
            break
        if not (isinstance(item, tuple | list) and len(item) == 2):
            return None
        x, y = (torch.as_tensor(v) for v in item)
        if not x.is_floating_point() or y.is_floating_point() or y.ndim != x.ndim - 1 \
                or x.ndim not in (3, 4):
            return None
        xs.append((x if x.ndim == 4 else x[None]).numpy().astype(np.float32))
        ys.append((y if y.ndim == 3 else y[None]).numpy().astype(np.int64))
        count += len(xs[-1])
    if not xs:
        return None
    x_all, y_all = np.concatenate(xs), np.concatenate(ys)
    return (x_all[:limit], y_all[:limit]) if limit else (x_all, y_all)


def segmentation_evaluation_set(data: ImageSource | None, cfg: Mapping[str, Any], *,
                                limit: int | None, dynamic_hw: bool = False) -> ImageData:
    """A segmenter's evaluation images and masks ``[N, H, W]`` (``y`` is ``None`` for
    images without masks: the gate is then pixel agreement with FP32).

    ``"digits"`` is :func:`cnnzoo.data.digits_segmentation`'s test split (the ink
    masks) at ``cfg``'s input size and normalisation; ``(images, masks)`` tensors and
    ``Dataset`` / ``DataLoader`` / lists of ``(image, mask)`` pairs keep their masks;
    folders and images are read as :func:`evaluation_set` reads them.

    Raises:
        QuantizeError: no data, a missing path, an empty set or images of the wrong size.
    """
    source = None
    if isinstance(data, Iterator):  # read once, whatever it turns out to hold
        data = list(data)
    if isinstance(data, str) and data == "digits":
        size = tuple(int(v) for v in cfg.get("input_size") or ())
        if len(size) != 3:
            raise QuantizeError("the digits masks need the model's input_size (C, H, W)")
        split = digits_segmentation(size, model=SimpleNamespace(pretrained_cfg=cfg))
        images, masks = split.test.tensors
        data, source = (images[:limit or None], masks[:limit or None]), \
            "digits test split (ink masks)"
    elif (pairs := _masks_pairs(data, limit)) is not None:
        data, source = pairs, "(image, mask) pairs"
    found = evaluation_set(data, cfg, limit=limit, dynamic_hw=dynamic_hw)
    return ImageData(found.x, found.y, source or found.source)
