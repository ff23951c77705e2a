"""The images quantization calibrates and judges on, and the reader onnxruntime takes them from.

:func:`calibration_set` and :func:`evaluation_set` accept every kind of data
:func:`cnnzoo.data.images.as_data` does (``"digits"``, a folder, images, tensors, a
``Dataset`` or ``DataLoader``) and raise :class:`~cnnzoo.errors.QuantizeError` with
what was wrong; :class:`CalibrationReader` feeds an array to onnxruntime in batches.

Example:
    >>> import numpy as np
    >>> from cnnzoo.deploy.quantization.calibrate import CalibrationReader
    >>> reader = CalibrationReader("input", np.zeros((5, 1, 8, 8), np.float32), batch=2)
    >>> [item["input"].shape[0] for item in reader]
    [2, 2, 1]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from cnnzoo.data.images import ImageData, ImageSource, as_data
from cnnzoo.errors import DataError, QuantizeError

__all__ = ["CalibrationReader", "calibration_set", "evaluation_set"]


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
