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

For a segmenter (``task == "segmentation"``), :meth:`Predictor.masks` gives each image's
class ids at the image's own size (:mod:`cnnzoo.deploy.masks`: the whole image resized
to the model's input, the logits resized back bilinearly, then the argmax), and
``predict(..., out=DIR)`` writes them as ``<stem>.mask.png`` (palette PNG: pixel value =
class id, VOC colours) and ``<stem>.overlay.png`` (the image with the mask blended in at
``alpha``, the background class 0 left as it is), plus ``predictions.json``: the labels,
their colours and each image's classes with their pixel shares. For a classifier
``out=DIR`` writes ``predictions.json`` alone. Files are written whole or not at all
(a temporary file renamed over the target); files of the same name are replaced, others
are left alone.

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

from cnnzoo._utils import atomic_write_text
from cnnzoo.data.datasets import eval_transform
from cnnzoo.data.images import load_images
from cnnzoo.deploy import openvino_backend
from cnnzoo.deploy.export import to_onnx
from cnnzoo.deploy.masks import (
    DEFAULT_ALPHA,
    MAX_CLASSES,
    class_shares,
    logits_to_mask,
    mask_png,
    mask_transform,
    open_image,
    voc_palette,
    write_png,
)
from cnnzoo.deploy.masks import overlay as overlay_image
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

__all__ = ["BACKENDS", "PREDICTIONS_FILE", "ImagePrediction", "PredictError", "Prediction",
           "Predictor", "output_folder", "predict"]

BACKENDS: tuple[str, ...] = ("auto", "eager", "onnx", "openvino")
"""``backend=``: ``"auto"`` is eager for a model and onnxruntime for an ``.onnx`` file."""

PREDICTIONS_FILE = "predictions.json"
"""What ``out=DIR`` always writes: the model, its labels (and, for a segmenter, their
colours) and every image's top classes."""


@dataclass
class Prediction:
    """One class of a top-k list: its index, name and probability (or pixel share)."""

    index: int
    label: str
    score: float


@dataclass
class ImagePrediction:
    """The top-k classes of one image; for a segmenter also its mask and, once written,
    its files.

    Attributes:
        image: the image's path (or its type's name for an in-memory image).
        top: classes, best first (for a segmenter: the classes present, by pixel share).
        mask: a segmenter's class ids ``[H, W]`` at the image's size (``uint8`` up to
            256 classes), ``None`` for a classifier.
        files: what ``out=DIR`` wrote for this image: ``{"mask": path, "overlay": path}``.
    """

    image: str
    top: list[Prediction] = field(default_factory=list)
    mask: np.ndarray | None = field(default=None, repr=False)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def best(self) -> Prediction:
        return self.top[0]


def _image_name(item: object) -> str:
    return str(item) if isinstance(item, str | os.PathLike) else type(item).__name__


def output_folder(out: str | os.PathLike[str]) -> Path:
    """``out`` as a folder to write predictions into: created (with its parents) if
    missing.

    Raises:
        PredictError: ``out`` is a file, or the folder cannot be created or written to.
    """
    folder = Path(out)
    if folder.exists() and not folder.is_dir():
        raise PredictError(f"out {str(folder)!r} is a file; give a folder to write the "
                           "predictions into")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PredictError(f"cannot create the output folder {str(folder)!r}: "
                           f"{exc.strerror or exc}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PredictError(f"cannot write into the output folder {str(folder)!r}: "
                           "permission denied")
    return folder


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

    def _label(self, index: int) -> str:
        labels = self.labels
        return labels[index] if labels and index < len(labels) else str(index)

    @property
    def num_classes(self) -> int | None:
        """The model's class count, from its config (``None`` when it does not say)."""
        value = self.cfg.get("num_classes")
        return int(value) if value else None

    def masks(self, images: Sequence[Any]) -> list[ImagePrediction]:
        """A segmenter's mask of each image, at the image's own size.

        The whole image is resized to the model's input size (no centre crop), the
        logits are resized back to the image's size *bilinearly* and the argmax taken
        (:func:`cnnzoo.deploy.masks.logits_to_mask`); every backend sees the same input.

        Returns:
            one :class:`ImagePrediction` per image: ``mask`` the class ids ``[H, W]``,
            ``top`` every class present with its share of the pixels, largest first.

        Raises:
            PredictError: not a segmentation model, no images, or a file that is not an
                image.
        """
        self._require_segmentation("masks")
        images = list(images)
        if not images:
            raise PredictError("no images given")
        return self._masks(images, [open_image(item) for item in images])

    def _require_segmentation(self, what: str) -> None:
        if self.task != "segmentation":
            raise PredictError(f"{what} need a segmentation model; {self.source} is a "
                               f"{self.task} model")

    def _masks(self, images: list[Any], opened: list[Any]) -> list[ImagePrediction]:
        transform = mask_transform(self.cfg)
        batch = np.stack([transform(image).numpy() for image in opened]).astype(np.float32)
        results = []
        for item, image, row in zip(images, opened, self.logits(batch), strict=True):
            mask = logits_to_mask(row, (image.height, image.width))
            shares = class_shares(mask, row.shape[0])
            order = [int(i) for i in np.argsort(-shares, kind="stable") if shares[i] > 0]
            results.append(ImagePrediction(
                image=_image_name(item), mask=mask,
                top=[Prediction(i, self._label(i), float(shares[i])) for i in order]))
        return results

    def predict(self, images: Sequence[Any], top_k: int = 5, *,
                out: str | os.PathLike[str] | None = None, alpha: float | None = None,
                overlay: bool = True) -> list[ImagePrediction]:
        """The ``top_k`` classes of each image (softmax probabilities; for segmenters the
        classes present, by share of the image's pixels, with the mask as ``.mask``).

        Args:
            images: image files, PIL images or image tensors ``[C, H, W]``.
            top_k: classes per image.
            out: a folder to write into (created if missing): :data:`PREDICTIONS_FILE`,
                and for a segmenter each image's ``<stem>.mask.png`` and
                ``<stem>.overlay.png`` (in-memory images are named ``image-<i>``).
            alpha: the overlay's opacity (default 0.5); segmenters with ``out`` only.
            overlay: ``False`` writes the masks without overlays; segmenters only.

        Raises:
            PredictError: no images, a file that is not an image, a bad ``top_k`` or
                ``alpha``, an ``out`` that cannot be written, two images that would be
                written under one name, or an overlay option for a classifier.
        """
        if top_k < 1:
            raise PredictError(f"top_k must be at least 1, got {top_k}")
        images = list(images)
        if not images:
            raise PredictError("no images given")
        segmentation = self.task == "segmentation"
        if alpha is not None or not overlay:
            option = "alpha" if alpha is not None else "overlay=False"
            if not segmentation:
                raise PredictError(f"{option} is for a segmenter's overlays; {self.source} "
                                   f"is a {self.task} model")
            if out is None:
                raise PredictError(f"{option} is for the overlays written with out=DIR")
        alpha = DEFAULT_ALPHA if alpha is None else float(alpha)
        if not 0.0 <= alpha <= 1.0:
            raise PredictError(f"alpha is the overlay's opacity, 0…1, not {alpha}")
        folder = output_folder(out) if out is not None else None
        if not segmentation:
            results = self._classify(images, top_k)
        else:
            targets = self._targets(images, folder) if folder is not None else []
            opened = [open_image(item) for item in images]
            results = self._masks(images, opened)
            for i, result in enumerate(results):
                result.top = result.top[:top_k]
                if folder is None:
                    continue
                assert result.mask is not None
                mask_path, overlay_path = targets[i]
                result.files["mask"] = str(write_png(mask_png(result.mask), mask_path))
                if overlay:
                    result.files["overlay"] = str(write_png(
                        overlay_image(opened[i], result.mask, alpha=alpha), overlay_path))
        if folder is not None:
            atomic_write_text(folder / PREDICTIONS_FILE,
                              json.dumps(self.to_dict(results), indent=2) + "\n")
        return results

    def _classify(self, images: list[Any], top_k: int) -> list[ImagePrediction]:
        out = self.logits(self.preprocess(images))
        results = []
        for name, row in zip(images, out, strict=True):
            if row.ndim > 1:  # spatial logits of a model whose config has no task
                classes = row.argmax(0).ravel()
                scores = np.bincount(classes, minlength=row.shape[0]) / classes.size
            else:
                shifted = np.exp(row - row.max())
                scores = shifted / shifted.sum()
            order = np.argsort(-scores, kind="stable")[:top_k]
            results.append(ImagePrediction(
                image=_image_name(name),
                top=[Prediction(int(i), self._label(int(i)), float(scores[i])) for i in order],
            ))
        return results

    def _targets(self, images: list[Any], folder: Path) -> list[tuple[Path, Path]]:
        """Each image's ``(mask, overlay)`` paths in ``folder``; refuses, before anything
        runs, two images under one name and an output that would replace an input."""
        if self.num_classes is not None and self.num_classes > MAX_CLASSES:
            raise PredictError(f"a palette PNG holds {MAX_CLASSES} classes; "
                               f"{self.source} has {self.num_classes}")
        inputs = {Path(item).resolve(): _image_name(item) for item in images
                  if isinstance(item, str | os.PathLike)}
        seen: dict[str, str] = {}
        targets = []
        for i, item in enumerate(images):
            stem = Path(item).stem if isinstance(item, str | os.PathLike) else f"image-{i}"
            if stem in seen:
                raise PredictError(
                    f"images {seen[stem]!r} and {_image_name(item)!r} would both be written "
                    f"as {stem}.mask.png; rename one or predict them into different folders")
            seen[stem] = _image_name(item)
            pair = (folder / f"{stem}.mask.png", folder / f"{stem}.overlay.png")
            for path in pair:
                if path.resolve() in inputs:
                    raise PredictError(f"writing {str(path)!r} would replace the input image "
                                       f"{inputs[path.resolve()]!r}; choose another out "
                                       "folder")
            targets.append(pair)
        return targets

    def to_dict(self, results: Sequence[ImagePrediction]) -> dict[str, Any]:
        """The JSON form of ``results`` (what :data:`PREDICTIONS_FILE` holds): the model,
        backend and precision, the labels (for a segmenter each class's palette colour as
        ``legend``) and each image's top classes and written files (names in the folder)."""
        payload: dict[str, Any] = {
            "model": self.source, "backend": self.backend, "precision": self.precision,
            "task": self.task,
            "report": self.report.to_dict() if self.report else None,
            "labels": list(self.labels) if self.labels else None,
        }
        if self.task == "segmentation":
            count = self.num_classes or 1 + max(
                (p.index for r in results for p in r.top), default=0)
            palette = voc_palette()
            payload["legend"] = [
                {"index": i, "label": self._label(i), "colour": palette[i].tolist()}
                for i in range(min(count, MAX_CLASSES))]
        payload["predictions"] = [
            {"image": r.image, "top": [p.__dict__ for p in r.top],
             **({"files": {k: Path(v).name for k, v in r.files.items()}} if r.files else {})}
            for r in results]
        return payload


def predict(model: ModelSource, images: Sequence[Any], *, top_k: int = 5,
            pretrained: bool | str = False, backend: str = "auto", precision: str = "auto",
            threads: int | None = None, out: str | os.PathLike[str] | None = None,
            alpha: float | None = None, overlay: bool = True) -> list[ImagePrediction]:
    """Top-k predictions of ``model`` (module, name, folder or ``.onnx``) for ``images``;
    with ``out=DIR`` also written to files (a segmenter's masks and overlays).

    Args:
        model: an ``nn.Module``, a registered name, a saved model folder or an ``.onnx``.
        images: image files, PIL images or ``uint8`` tensors.
        top_k: classes per image.
        pretrained: weights for a model given by name.
        backend: ``"auto"``, ``"eager"``, ``"onnx"`` or ``"openvino"`` (see :class:`Predictor`).
        precision: ``"auto"``, ``"fp32"`` or ``"bf16"`` (see :class:`Predictor`).
        threads: OpenVINO's threads (default: every core).
        out: a folder for :data:`PREDICTIONS_FILE` and, for a segmenter, each image's
            ``<stem>.mask.png`` and ``<stem>.overlay.png`` (see :meth:`Predictor.predict`).
        alpha: the overlays' opacity (default 0.5).
        overlay: ``False``: masks without overlays.

    Returns:
        one :class:`ImagePrediction` per image (a segmenter's with its ``mask``).

    Example:
        >>> import torch, tempfile, cnnzoo
        >>> from PIL import Image
        >>> from cnnzoo.deploy.predict import predict
        >>> torch.manual_seed(0)  # doctest: +ELLIPSIS
        <torch._C.Generator object at ...>
        >>> model = cnnzoo.create("unet", base_width=4)
        >>> model.pretrained_cfg["input_size"] = (3, 32, 32)
        >>> folder = tempfile.mkdtemp()
        >>> Image.new("RGB", (48, 40), "gray").save(f"{folder}/photo.png")
        >>> [result] = predict(model, [f"{folder}/photo.png"], out=folder)
        >>> result.mask.shape, sorted(result.files)
        ((40, 48), ['mask', 'overlay'])
    """
    return Predictor(model, pretrained=pretrained, backend=backend, precision=precision,
                     threads=threads).predict(images, top_k=top_k, out=out, alpha=alpha,
                                              overlay=overlay)
