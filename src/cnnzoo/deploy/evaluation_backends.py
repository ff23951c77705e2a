"""The backends :func:`cnnzoo.deploy.evaluation.evaluate` runs a model on.

A backend is a :class:`~cnnzoo.deploy.predict.Predictor` with a name and a size. The model
as given (an eager module, a saved folder, a name or an ``.onnx`` file) is one. The others
are derived from it in a temporary folder (:class:`Workdir`), each verified as it is made:

- ``"onnx"``: the FP32 export (:func:`~cnnzoo.deploy.export.to_onnx`, checked against
  eager);
- ``"int8"`` / ``"fp16"``: :func:`~cnnzoo.deploy.quantization.quantize` of that file;
- ``"eager-bf16"``: the eager model under ``torch.autocast`` bf16, verified by top-1
  agreement with fp32 on real inputs (refused without native bf16);
- ``"openvino"`` / ``"openvino-bf16"``: OpenVINO on the FP32 file, at the fastest native
  precision that passes verification, or at bf16;
- ``"openvino-int8"``: OpenVINO on an INT8 file, NNCF's (the faster one on OpenVINO) when
  NNCF is installed, else onnxruntime's.

A backend that fails its verification, or needs what the machine lacks (the OpenVINO
extra, native bf16), is an :class:`~cnnzoo.errors.EvaluateError` with the reason; it is
never evaluated in silence.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from cnnzoo.data.images import ImageSource
from cnnzoo.deploy.predict import Predictor
from cnnzoo.deploy.runtime import ModelSource, file_size, resolve_model
from cnnzoo.errors import BackendUnavailableError, CnnzooError, EvaluateError

__all__ = ["BACKENDS", "Backend", "Workdir", "derived", "open_backend"]

BACKENDS = ("auto", "eager", "eager-bf16", "onnx", "int8", "fp16", "openvino",
            "openvino-bf16", "openvino-int8")
"""``backend=`` values: the model's own, or one made from it (see the module doc)."""

_QUANT_METHODS = {"int8": "int8-static", "fp16": "fp16"}
_OPENVINO_PRECISION = {"openvino": "auto", "openvino-bf16": "bf16", "openvino-int8": "auto"}


@dataclass
class Backend:
    """One model ready to evaluate: its predictor, name, size, and its eager module or its
    ``.onnx`` file; ``label`` names the backend in reports (default: the predictor's)."""

    predictor: Predictor
    name: str
    size_bytes: int | None
    module: nn.Module | None = None
    path: Path | None = None
    label: str | None = None

    @property
    def backend(self) -> str:
        """What runs the model: ``eager``, ``onnx-int8-static``, ``openvino, bf16`` …"""
        return self.label or self.predictor.backend


def _module_name(module: nn.Module) -> str:
    cfg = getattr(module, "pretrained_cfg", None) or {}
    arch = cfg.get("architecture") or type(module).__name__
    return f"{arch}.{cfg['tag']}" if cfg.get("tag") else str(arch)


def _weights_size(module: nn.Module, source: Any) -> int:
    if isinstance(source, str | os.PathLike) and Path(source).is_dir():
        weights = Path(source) / "model.safetensors"
        if weights.is_file():
            return weights.stat().st_size
    return sum(t.numel() * t.element_size() for t in module.state_dict().values())


@contextlib.contextmanager
def _as_evaluate_error() -> Iterator[None]:
    """cnnzoo's errors (no extra, no native bf16, a failed verification, a bad model)
    become :class:`EvaluateError` with the same message; an unknown name stays a
    ``KeyError``."""
    try:
        yield
    except CnnzooError as exc:
        if isinstance(exc, EvaluateError | KeyError):
            raise
        raise EvaluateError(str(exc)) from exc


def _predictor(source: ModelSource, **options: Any) -> Predictor:
    with _as_evaluate_error():
        return Predictor(source, **options)


def open_backend(source: ModelSource, *, pretrained: bool | str) -> Backend:
    """The model as given: eager PyTorch, or onnxruntime for an ``.onnx`` file."""
    if isinstance(source, str | os.PathLike) and Path(os.fspath(source)).suffix == ".onnx":
        path = Path(os.fspath(source))
        return Backend(_predictor(path), path.name, file_size(path) if path.is_file()
                       else None, path=path)
    with _as_evaluate_error():
        module = resolve_model(source, pretrained=pretrained).eval()
    return Backend(_predictor(module), _module_name(module), _weights_size(module, source),
                   module)


class Workdir:
    """A temporary folder made on first use and removed on exit: most evaluations export
    nothing, and making and removing a folder costs milliseconds on some file systems."""

    def __init__(self) -> None:
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def __call__(self) -> Path:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="cnnzoo-evaluate-")
        return Path(self._tmp.name)

    def __enter__(self) -> Workdir:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def derived(reference: Backend, backend: str, workdir: Workdir, data: ImageSource,
            calibration: ImageSource | None) -> Backend:
    """``backend`` made from ``reference`` (an eager model, or an FP32 ``.onnx`` file; an
    OpenVINO backend also takes a quantized file as it is), written in ``workdir()``."""
    if backend == "eager-bf16":
        return _eager_bf16(reference)
    if backend.startswith("openvino"):
        _require_openvino()  # before exporting or quantizing anything
    if backend == "openvino" and reference.module is None and reference.path is not None:
        return _openvino(reference.path, "auto")  # any cnnzoo file, at its own precision
    fp32, stem = _fp32_file(reference, backend, workdir)
    if backend == "onnx":
        return reference if fp32 == reference.path else open_backend(fp32, pretrained=False)
    if backend in ("openvino", "openvino-bf16"):
        return _openvino(fp32, _OPENVINO_PRECISION[backend])
    method = "int8" if backend == "openvino-int8" else backend
    engine = _openvino_int8_engine() if backend == "openvino-int8" else "onnxruntime"
    suffix = method if engine == "onnxruntime" else f"{engine}.{method}"
    out = workdir() / f"{stem}.{suffix}.onnx"
    _quantize(fp32, method, out, engine, data, calibration)
    if backend == "openvino-int8":
        return _openvino(out, "auto")
    return open_backend(out, pretrained=False)


def _fp32_file(reference: Backend, backend: str, workdir: Workdir) -> tuple[Path, str]:
    """The FP32 ``.onnx`` file of ``reference`` (exported into ``workdir()`` for an eager
    model) and the stem of the files made from it."""
    from cnnzoo.deploy.export import to_onnx

    if reference.module is None:
        if reference.path is None or reference.predictor.backend != "onnx":
            raise EvaluateError(f"backend {backend!r} needs an eager model or an FP32 ONNX "
                                f"file; {reference.name} is already quantized "
                                f"({reference.predictor.backend})")
        return reference.path, reference.path.stem
    stem = reference.name.replace(os.sep, "_")
    fp32 = workdir() / f"{stem}.onnx"
    if not fp32.exists():
        to_onnx(reference.module, fp32)
    return fp32, stem


def _quantize(fp32: Path, backend: str, out: Path, engine: str, data: ImageSource,
              calibration: ImageSource | None) -> None:
    from cnnzoo.deploy.quantization import quantize

    method = _QUANT_METHODS[backend]
    if method == "int8-static" and calibration is None:
        if not (isinstance(data, str) and data == "digits"):
            raise EvaluateError("an INT8 backend needs calibration images: pass calibration= "
                                "(the evaluation data are not used for calibration)")
        calibration = "digits"  # the digits' train split, never the test split
    if not out.exists():
        quantize(fp32, method=method, calibration=calibration, output=out,
                 latency_batch_sizes=(), engine=engine)


def _require_openvino() -> None:
    from cnnzoo.deploy.openvino_backend import import_openvino

    with _as_evaluate_error():
        import_openvino()


def _openvino_int8_engine() -> str:
    """NNCF where it is installed (its file is the faster one on OpenVINO), else onnxruntime."""
    from cnnzoo.deploy.quantization.nncf_engine import import_nncf

    try:
        import_nncf()
    except BackendUnavailableError:
        return "onnxruntime"
    return "nncf"


def _eager_bf16(reference: Backend) -> Backend:
    if reference.module is None:
        raise EvaluateError(f"backend 'eager-bf16' needs a PyTorch model; {reference.name} "
                            "is an ONNX file")
    predictor = _predictor(reference.module, precision="bf16")
    return Backend(predictor, reference.name, reference.size_bytes, reference.module,
                   label="eager, bf16")


def _openvino(path: Path, precision: str) -> Backend:
    """OpenVINO on ``path``, verified against onnxruntime on the same file (the file itself
    was verified against eager when it was made)."""
    predictor = _predictor(path, backend="openvino", precision=precision)
    return Backend(predictor, path.name, file_size(path), path=path,
                   label=f"{predictor.backend}, {predictor.precision}")
