"""One predictor over every backend: eager PyTorch, ONNX and INT8/FP16 ONNX.

Preprocessing is always :func:`cnnzoo.data.eval_transform` of the same configuration:
for an eager model its ``pretrained_cfg``, for an ONNX file the cnnzoo metadata that
:func:`cnnzoo.export.to_onnx` wrote into it (and :func:`cnnzoo.quantize` carried
over). So an image gives the same input tensor on every backend, and only the
backend's arithmetic can make predictions differ.

Example:
    >>> import cnnzoo
    >>> from cnnzoo.deploy.predict import Predictor
    >>> predictor = Predictor(cnnzoo.create("lenet5", pretrained=True))
    >>> predictor.backend, predictor.labels[:3]
    ('eager', ('0', '1', '2'))
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnzoo.data.datasets import eval_transform
from cnnzoo.data.images import load_images
from cnnzoo.deploy.runtime import (
    QUANT_METADATA_KEY,
    ModelSource,
    metadata_for,
    onnx_metadata_props,
    ort_session,
    read_metadata,
    resolve_input_size,
    resolve_model,
)
from cnnzoo.errors import DataError, ExportError, PredictError

__all__ = ["ImagePrediction", "PredictError", "Prediction", "Predictor", "predict"]


@dataclass
class Prediction:
    """One class of a top-k list: its index, name and probability (or pixel share)."""

    index: int
    label: str
    score: float


@dataclass
class ImagePrediction:
    """The top-k classes of one image."""

    image: str
    top: list[Prediction] = field(default_factory=list)

    @property
    def best(self) -> Prediction:
        return self.top[0]


def _onnx_path(source: object) -> Path | None:
    """``source`` as a path when it names an ``.onnx`` file, else ``None``."""
    if isinstance(source, str | os.PathLike):
        path = Path(os.fspath(source))
        return path if path.suffix == ".onnx" else None
    return None


class Predictor:
    """Preprocess images and run a model on one backend.

    Args:
        source: an ``nn.Module`` from ``cnnzoo.create``, a registered name, a saved model
            folder, or an ``.onnx`` file exported by cnnzoo (FP32, INT8 or FP16).
        pretrained: weights for a model given by name (``True``, a tag…).

    Raises:
        PredictError: a missing file, an ONNX file without cnnzoo metadata, an unknown
            model, or a model without an input size.
    """

    def __init__(self, source: ModelSource, *, pretrained: bool | str = False) -> None:
        self.source = str(source) if isinstance(source, str | os.PathLike) else type(
            source).__name__
        self._session: Any = None
        self._model: nn.Module | None = None
        onnx_path = _onnx_path(source)
        try:
            if onnx_path is not None:
                self._open_onnx(onnx_path)
            else:
                self._open_eager(resolve_model(source, pretrained=pretrained))
        except ExportError as exc:
            raise PredictError(str(exc)) from exc
        self.transform = eval_transform(self.cfg)
        self.task = self.cfg.get("task") or "classification"

    def _open_onnx(self, path: Path) -> None:
        if not path.is_file():
            raise PredictError(f"{str(path)!r}: no such file")
        self.cfg: dict[str, Any] = dict(read_metadata(path))
        self._session = ort_session(path)
        self._input_name = self._session.get_inputs()[0].name
        self.backend = "onnx"
        quantization = onnx_metadata_props(path).get(QUANT_METADATA_KEY)
        if quantization:
            self.backend = "onnx-" + json.loads(quantization)["method"]

    def _open_eager(self, model: nn.Module) -> None:
        self._model = model.eval()
        try:
            size = resolve_input_size(model)
        except ExportError:
            raise PredictError("the model has no pretrained_cfg['input_size']") from None
        self.cfg = metadata_for(model, size)
        self.backend = "eager"

    @property
    def labels(self) -> tuple[str, ...] | None:
        labels = self.cfg.get("labels")
        return tuple(labels) if labels else None

    def preprocess(self, images: Sequence[Any]) -> np.ndarray:
        """Images (files, PIL images, ``uint8`` tensors) → the model's input batch."""
        try:
            return load_images(images, self.cfg)
        except DataError as exc:
            raise PredictError(str(exc)) from exc

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw outputs for a preprocessed batch ``[N, C, H, W]``."""
        if self._session is not None:
            return np.asarray(self._session.run(None, {self._input_name: batch})[0])
        if self._model is None:
            raise PredictError("the predictor has neither a session nor a model")
        with torch.inference_mode():
            return self._model(torch.from_numpy(batch)).float().numpy()

    def predict(self, images: Sequence[Any], top_k: int = 5) -> list[ImagePrediction]:
        """The ``top_k`` classes of each image (softmax probabilities; for segmenters the
        share of pixels assigned to each class)."""
        if top_k < 1:
            raise PredictError(f"top_k must be at least 1, got {top_k}")
        images = list(images)
        if not images:
            raise PredictError("no images given")
        out = self.logits(self.preprocess(images))
        results = []
        for name, row in zip(images, out, strict=True):
            if self.task == "segmentation" or row.ndim > 1:
                classes = row.argmax(0).ravel()
                scores = np.bincount(classes, minlength=row.shape[0]) / classes.size
            else:
                shifted = np.exp(row - row.max())
                scores = shifted / shifted.sum()
            order = np.argsort(-scores, kind="stable")[:top_k]
            labels = self.labels
            results.append(ImagePrediction(
                image=str(name) if isinstance(name, (str, os.PathLike)) else type(name).__name__,
                top=[Prediction(int(i), labels[i] if labels and i < len(labels) else str(int(i)),
                                float(scores[i])) for i in order],
            ))
        return results


def predict(model: ModelSource, images: Sequence[Any], *, top_k: int = 5,
            pretrained: bool | str = False) -> list[ImagePrediction]:
    """Top-k predictions of ``model`` (module, name, folder or ``.onnx``) for ``images``.

    Args:
        model: an ``nn.Module``, a registered name, a saved model folder or an ``.onnx``.
        images: image files, PIL images or ``uint8`` tensors.
        top_k: classes per image.
        pretrained: weights for a model given by name.

    Returns:
        one :class:`ImagePrediction` per image.
    """
    return Predictor(model, pretrained=pretrained).predict(images, top_k=top_k)
