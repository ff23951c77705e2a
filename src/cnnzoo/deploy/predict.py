"""One predictor over every backend: eager PyTorch (fp32, bf16), ONNX, INT8/FP16 ONNX, OpenVINO.

Preprocessing is always :func:`cnnzoo.data.eval_transform` of the same configuration:
for an eager model its ``pretrained_cfg``, for an ONNX file the cnnzoo metadata that
:func:`cnnzoo.export.to_onnx` wrote into it (and :func:`cnnzoo.quantize` carried
over). So an image gives the same input tensor on every backend, and only the
backend's arithmetic can make predictions differ.

``backend="openvino"`` compiles the ONNX file (a model is exported first) with
:mod:`cnnzoo.deploy.openvino_backend`; ``precision=`` picks bf16 for eager PyTorch
(``torch.autocast``) or OpenVINO's inference precision. Every precision other than the
model's own fp32 is verified against eager fp32 before use (:mod:`cnnzoo.deploy.precision`);
``predictor.report`` says what was checked and chosen.

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
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

from cnnzoo.data.datasets import eval_transform
from cnnzoo.data.images import load_images
from cnnzoo.deploy import openvino_backend
from cnnzoo.deploy.export import to_onnx
from cnnzoo.deploy.precision import PrecisionReport, eager_runner, verify_eager
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

__all__ = ["BACKENDS", "ImagePrediction", "PredictError", "Prediction", "Predictor", "predict"]

BACKENDS: tuple[str, ...] = ("auto", "eager", "onnx", "openvino")
"""``backend=``: ``"auto"`` is eager for a model and onnxruntime for an ``.onnx`` file."""


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
        backend: ``"auto"`` (eager for a model, onnxruntime for an ``.onnx`` file),
            ``"eager"``, ``"onnx"`` (onnxruntime) or ``"openvino"`` (a model is exported
            to ONNX first, verified).
        precision: ``"auto"``, ``"fp32"`` or ``"bf16"`` (and ``"fp16"`` on OpenVINO):
            for eager PyTorch ``"auto"`` is fp32 and ``"bf16"`` runs under
            ``torch.autocast``; for OpenVINO ``"auto"`` is the fastest native precision
            that passes verification. bf16 only where the hardware reports native bf16.
        threads: OpenVINO's ``INFERENCE_NUM_THREADS`` (default: every core).
        hint: OpenVINO's ``PERFORMANCE_HINT``: ``"latency"`` or ``"throughput"``.

    Raises:
        PredictError: a missing file, an ONNX file without cnnzoo metadata, an unknown
            model, a model without an input size, or a backend that does not take the source.
        BackendUnavailableError: ``backend="openvino"`` without the openvino extra.
        PrecisionError: a precision the hardware has no native support for.
        VerificationError: the precision disagrees with eager fp32 (``exc.report``).
    """

    def __init__(self, source: ModelSource, *, pretrained: bool | str = False,
                 backend: str = "auto", precision: str = "auto", threads: int | None = None,
                 hint: str = "latency") -> None:
        self.source = str(source) if isinstance(source, str | os.PathLike) else type(
            source).__name__
        self._session: Any = None
        self._model: nn.Module | None = None
        self._openvino: openvino_backend.OpenVINOModel | None = None
        self.precision = "fp32"
        self.report: PrecisionReport | None = None
        onnx_path = _onnx_path(source)
        if backend not in BACKENDS:
            raise PredictError(f"backend {backend!r} is not one of {', '.join(BACKENDS)}")
        if backend == "eager" and onnx_path is not None:
            raise PredictError(f"backend 'eager' needs a model, not an .onnx file ({source})")
        as_is = backend == "onnx" or (backend == "auto" and onnx_path is not None)
        if as_is and precision not in ("auto", "fp32"):
            raise PredictError(f"precision {precision!r} applies to the eager and openvino "
                               "backends; onnxruntime runs the file at its own precision")
        try:
            if backend == "openvino":
                self._open_openvino(source, onnx_path, pretrained, precision, threads, hint)
            elif onnx_path is not None:
                self._open_onnx(onnx_path)
            elif backend == "onnx":
                self._open_exported(resolve_model(source, pretrained=pretrained))
            else:
                self._open_eager(resolve_model(source, pretrained=pretrained), precision)
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

    def _open_eager(self, model: nn.Module, precision: str = "auto") -> None:
        self._model = model.eval()
        try:
            size = resolve_input_size(model)
        except ExportError:
            raise PredictError("the model has no pretrained_cfg['input_size']") from None
        self.cfg = metadata_for(model, size)
        self.backend = "eager"
        self.report = verify_eager(self._model, precision, self.cfg)
        self.precision = self.report.chosen or "fp32"
        self._run = eager_runner(self._model, self.precision)

    def _open_exported(self, model: nn.Module) -> None:
        """onnxruntime on a verified export of ``model`` (written to a temporary folder)."""
        with tempfile.TemporaryDirectory(prefix="cnnzoo-predict-") as tmp:
            path = Path(tmp) / "model.onnx"
            to_onnx(model, path)
            self._open_onnx(path)

    def _open_openvino(self, source: ModelSource, onnx_path: Path | None,
                       pretrained: bool | str, precision: str, threads: int | None,
                       hint: str) -> None:
        """OpenVINO on the ``.onnx`` file, or on a verified export of the model (whose eager
        fp32 outputs are then the reference)."""
        openvino_backend.import_openvino()
        if onnx_path is not None:
            if not onnx_path.is_file():
                raise PredictError(f"{str(onnx_path)!r}: no such file")
            compiled = openvino_backend.compile_onnx(onnx_path, precision=precision,
                                                     threads=threads, hint=hint)
        else:
            model = resolve_model(source, pretrained=pretrained).eval()
            with tempfile.TemporaryDirectory(prefix="cnnzoo-predict-") as tmp:
                path = Path(tmp) / "model.onnx"
                to_onnx(model, path)
                compiled = openvino_backend.compile_onnx(
                    path, precision=precision, threads=threads, hint=hint,
                    reference=eager_runner(model))
        self.cfg = dict(compiled.cfg)
        self._openvino = compiled
        self.backend = compiled.label
        self.precision = compiled.precision
        self.report = compiled.report

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
        if self._openvino is not None:
            return self._openvino(batch)
        if self._model is None:
            raise PredictError("the predictor has neither a session nor a model")
        return self._run(batch)

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
            pretrained: bool | str = False, backend: str = "auto", precision: str = "auto",
            threads: int | None = None) -> list[ImagePrediction]:
    """Top-k predictions of ``model`` (module, name, folder or ``.onnx``) for ``images``.

    Args:
        model: an ``nn.Module``, a registered name, a saved model folder or an ``.onnx``.
        images: image files, PIL images or ``uint8`` tensors.
        top_k: classes per image.
        pretrained: weights for a model given by name.
        backend: ``"auto"``, ``"eager"``, ``"onnx"`` or ``"openvino"`` (see :class:`Predictor`).
        precision: ``"auto"``, ``"fp32"`` or ``"bf16"`` (see :class:`Predictor`).
        threads: OpenVINO's threads (default: every core).

    Returns:
        one :class:`ImagePrediction` per image.
    """
    return Predictor(model, pretrained=pretrained, backend=backend, precision=precision,
                     threads=threads).predict(images, top_k=top_k)
