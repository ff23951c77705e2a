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

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnzoo.errors import PredictError

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


def _is_onnx(source: Any) -> bool:
    return isinstance(source, (str, os.PathLike)) and Path(source).suffix == ".onnx"


class Predictor:
    """Preprocess images and run a model on one backend.

    Args:
        source: an ``nn.Module`` from ``cnnzoo.create``, a registered name, a saved model
            folder, or an ``.onnx`` file exported by cnnzoo (FP32, INT8 or FP16).
        pretrained: weights for a model given by name (``True``, a tag…).
    """

    def __init__(self, source: Any, *, pretrained: bool | str = False) -> None:
        from cnnzoo.data import eval_transform
        from cnnzoo.deploy.export import metadata_for, read_metadata, resolve_model
        from cnnzoo.errors import ExportError

        self.source = str(source) if isinstance(source, (str, os.PathLike)) else type(
            source).__name__
        self._session = None
        self._model = None
        if _is_onnx(source):
            path = Path(source)
            if not path.is_file():
                raise PredictError(f"{str(path)!r}: no such file")
            try:
                self.cfg = dict(read_metadata(path))
            except ExportError as exc:
                raise PredictError(str(exc)) from exc
            from cnnzoo.deploy.bench import ort_session

            self._session = ort_session(path)
            self._input_name = self._session.get_inputs()[0].name
            self.backend = "onnx"
            import onnx

            props = {p.key: p.value for p in onnx.load(
                str(path), load_external_data=False).metadata_props}
            if "cnnzoo_quantization" in props:
                import json

                self.backend = "onnx-" + json.loads(props["cnnzoo_quantization"])["method"]
        else:
            try:
                model = resolve_model(source, pretrained=pretrained)
            except ExportError as exc:
                raise PredictError(str(exc)) from exc
            self._model = model.eval()
            size = (getattr(model, "pretrained_cfg", None) or {}).get("input_size")
            if not size:
                raise PredictError("the model has no pretrained_cfg['input_size']")
            self.cfg = metadata_for(model, size)
            self.backend = "eager"
        self.transform = eval_transform(self.cfg)
        self.task = self.cfg.get("task") or "classification"

    @property
    def labels(self) -> tuple[str, ...] | None:
        labels = self.cfg.get("labels")
        return tuple(labels) if labels else None

    def preprocess(self, images: Sequence[Any]) -> np.ndarray:
        """Images (files, PIL images, ``uint8`` tensors) → the model's input batch."""
        from cnnzoo.deploy.quantization import load_images
        from cnnzoo.errors import QuantizeError

        try:
            return load_images(images, self.cfg)
        except QuantizeError as exc:
            raise PredictError(str(exc)) from exc

    def logits(self, batch: np.ndarray) -> np.ndarray:
        """Raw outputs for a preprocessed batch ``[N, C, H, W]``."""
        if self._session is not None:
            return np.asarray(self._session.run(None, {self._input_name: batch})[0])
        import torch

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


def predict(model: Any, images: Sequence[Any], *, top_k: int = 5,
            pretrained: bool | str = False) -> list[ImagePrediction]:
    """Top-k predictions of ``model`` (module, name, folder or ``.onnx``) for ``images``."""
    return Predictor(model, pretrained=pretrained).predict(images, top_k=top_k)
