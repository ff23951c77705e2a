"""OpenVINO: a cnnzoo ONNX file (FP32, INT8 QDQ or FP16) compiled for the CPU, verified.

An optional backend (``pip install "cnnzoo[openvino]"``); without it, every function
here raises :class:`~cnnzoo.errors.BackendUnavailableError` with that hint, and the
rest of cnnzoo runs on onnxruntime as before.

:func:`compile_onnx` hands the file to ``openvino.Core().compile_model(path, "CPU",
config)`` directly — no conversion step — with:

- ``INFERENCE_PRECISION_HINT``: ``precision="fp32"`` (``f32``), ``"bf16"`` (allowed only
  where OpenVINO's ``OPTIMIZATION_CAPABILITIES`` of the CPU list ``BF16``), ``"fp16"``
  (where they list ``FP16``) or ``"auto"`` (the default): every precision the CPU runs
  natively is compiled, verified and timed, and the fastest that passes is kept;
- ``PERFORMANCE_HINT``: ``hint="latency"`` (the default: one stream, for one request at a
  time) or ``"throughput"`` (several streams; a batch is split over parallel requests);
- ``INFERENCE_NUM_THREADS``: ``threads`` (default: every core this process may use);
- ``ENABLE_CPU_PINNING``: ``pin_threads``, off by default, as onnxruntime's and torch's
  threads are: a pinned thread cannot leave a core another process is using, and on a
  shared 2-core machine under load pinning made ResNet-50 INT8 about 25 % slower
  (bench/deploy_speed.py notes); ``True`` gives OpenVINO's own latency default back;
- the input shape: ``batch`` compiles for that fixed batch size (the file's batch
  dimension reshaped to it, height and width from its metadata), so OpenVINO picks its
  static-shape kernels; other batch sizes then run in chunks of it. Default: the file's
  own shape (cnnzoo exports a dynamic batch). ``cnnzoo bench`` compiles each batch size
  it times this way.

Preprocessing comes from the file's cnnzoo metadata (:func:`cnnzoo.deploy.runtime.read_metadata`),
as for onnxruntime. Every precision is verified before it is used
(:mod:`cnnzoo.deploy.precision`): fp32 of an FP32 file within export's tolerance of the
reference, anything else (bf16, an INT8 or FP16 file) by top-1 agreement on real
inputs. The reference is eager fp32 when the caller passes the model, else onnxruntime
on the same file (which export or quantization verified against eager). A precision
that fails is reported with its numbers and never used; when none passes,
:class:`~cnnzoo.errors.VerificationError` carries the report.

Example:
    >>> from cnnzoo.deploy import openvino_backend
    >>> isinstance(openvino_backend.available(), bool)
    True
"""

from __future__ import annotations

import functools
import json
import os
import statistics
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from cnnzoo.deploy.export import DEFAULT_ATOL, DEFAULT_RTOL
from cnnzoo.deploy.precision import (
    DEFAULT_MIN_AGREEMENT,
    PrecisionCandidate,
    PrecisionReport,
    refuse,
    verify,
)
from cnnzoo.deploy.runtime import (
    QUANT_METADATA_KEY,
    onnx_metadata_props,
    ort_session,
    read_metadata,
)
from cnnzoo.deploy.timing import measure
from cnnzoo.errors import BackendUnavailableError, CnnzooError, PrecisionError

__all__ = [
    "HINTS",
    "INSTALL_HINT",
    "PRECISIONS",
    "OpenVINOModel",
    "available",
    "capabilities",
    "compile_onnx",
    "import_openvino",
    "native_precisions",
]

INSTALL_HINT = 'pip install "cnnzoo[openvino]"'
PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16", "fp16")
HINTS: tuple[str, ...] = ("latency", "throughput")

_HINT_VALUE = {"fp32": "f32", "bf16": "bf16", "fp16": "f16"}
_CAPABILITY = {"fp32": "FP32", "bf16": "BF16", "fp16": "FP16"}
_AUTO_ORDER = ("bf16", "fp16", "fp32")  # tried in this order; the fastest verified wins


def import_openvino() -> ModuleType:
    """The ``openvino`` module.

    Raises:
        BackendUnavailableError: it is not installed (the message says how to install it).
    """
    try:
        import openvino
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the OpenVINO backend needs the openvino extra: {INSTALL_HINT} ({exc})") from exc
    return openvino


def available() -> bool:
    """Whether OpenVINO can be imported (the ``openvino`` extra is installed)."""
    try:
        import_openvino()
    except BackendUnavailableError:
        return False
    return True


@functools.lru_cache(maxsize=1)
def _core() -> Any:
    return import_openvino().Core()


def capabilities() -> tuple[str, ...]:
    """OpenVINO's ``OPTIMIZATION_CAPABILITIES`` of the CPU (``FP32``, ``BF16``, ``INT8``…)."""
    return tuple(str(c) for c in _core().get_property("CPU", "OPTIMIZATION_CAPABILITIES"))


def native_precisions() -> tuple[str, ...]:
    """The compute precisions the CPU runs natively, as OpenVINO reports them (fp32 first)."""
    caps = set(capabilities())
    return tuple(p for p in ("fp32", "bf16", "fp16") if _CAPABILITY[p] in caps)


def _default_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _check_arguments(precision: str, hint: str, threads: int | None) -> int:
    if precision not in PRECISIONS:
        raise PrecisionError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)} "
                             "for OpenVINO")
    if hint not in HINTS:
        raise PrecisionError(f"hint {hint!r} is not one of {', '.join(HINTS)}")
    if threads is not None and int(threads) < 1:
        raise PrecisionError(f"threads must be at least 1, got {threads}")
    if precision not in ("auto", "fp32") and precision not in native_precisions():
        raise PrecisionError(
            f"{precision} needs native {precision} on the CPU: OpenVINO reports "
            f"OPTIMIZATION_CAPABILITIES {', '.join(capabilities())} (no "
            f"{_CAPABILITY[precision]}); use precision='fp32' or 'auto'")
    return int(threads) if threads else _default_threads()


class OpenVINOModel:
    """A cnnzoo ONNX file compiled by OpenVINO at one (verified) precision.

    Call it with a preprocessed float32 batch ``[N, C, H, W]``; it returns the first
    output. Made by :func:`compile_onnx`.
    """

    def __init__(self, path: Path, compiled: Any, precision: str, cfg: dict[str, Any],
                 quantization: dict[str, Any] | None, threads: int, hint: str,
                 report: PrecisionReport) -> None:
        self.path, self.compiled, self.precision = path, compiled, precision
        self.cfg, self.quantization, self.threads, self.hint = cfg, quantization, threads, hint
        self.report = report
        self._request = compiled.create_infer_request()
        shape = compiled.inputs[0].get_partial_shape()
        self.fixed_batch: int | None = shape[0].get_length() if shape[0].is_static else None

    @property
    def label(self) -> str:
        """``"openvino"`` or ``"openvino-int8-static"`` (the file's quantization)."""
        return "openvino" + (f"-{self.quantization['method']}" if self.quantization else "")

    def _infer(self, x: np.ndarray) -> np.ndarray:
        out = self._request.infer({0: x})
        return np.asarray(out[self.compiled.outputs[0]])

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        b = self.fixed_batch
        if b is None or len(x) == b:
            if self.hint == "throughput" and len(x) > 1 and b is None:
                jobs = max(1, int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
                return np.concatenate(self._parallel(np.array_split(x, min(jobs, len(x)))))
            return self._infer(x)
        # a fixed batch size: chunks of it, the last one padded (its padding cut off)
        n = len(x)
        if n % b:
            x = np.concatenate([x, np.zeros((b - n % b, *x.shape[1:]), dtype=x.dtype)])
        chunks = [x[i:i + b] for i in range(0, len(x), b)]
        outs = self._parallel(chunks) if self.hint == "throughput" and len(chunks) > 1 else \
            [self._infer(c) for c in chunks]
        return np.concatenate(outs)[:n]

    def _parallel(self, chunks: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The outputs of ``chunks``, run as parallel requests (the throughput hint)."""
        ov = import_openvino()
        outputs: list[np.ndarray | None] = [None] * len(chunks)
        jobs = max(1, int(self.compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")))
        queue = ov.AsyncInferQueue(self.compiled, min(jobs, len(chunks)))

        def done(request: Any, index: int) -> None:
            outputs[index] = np.array(request.get_output_tensor(0).data)

        queue.set_callback(done)
        for i, chunk in enumerate(chunks):
            queue.start_async({0: np.ascontiguousarray(chunk)}, i)
        queue.wait_all()
        return [o for o in outputs if o is not None]

    def timed_call(self, x: np.ndarray) -> Callable[[], Any]:
        """A call on a fixed input, for timing (the input tensor set once)."""
        request = self.compiled.create_infer_request()
        x = np.ascontiguousarray(x, dtype=np.float32)
        request.set_input_tensor(import_openvino().Tensor(x))
        return request.infer


def _file_facts(path: Path) -> tuple[dict[str, Any], dict[str, Any] | None]:
    try:
        cfg = dict(read_metadata(path))
    except CnnzooError as exc:
        raise PrecisionError(str(exc)) from exc
    raw = onnx_metadata_props(path).get(QUANT_METADATA_KEY)
    return cfg, json.loads(raw) if raw else None


def _compile(path: Path, precision: str, threads: int, hint: str, batch: int | None = None,
             input_size: Sequence[int] | None = None, pin_threads: bool | None = None) -> Any:
    """``compile_model`` of the file, reshaped to ``[batch, *input_size]`` when ``batch``."""
    config: dict[str, Any] = {"INFERENCE_PRECISION_HINT": _HINT_VALUE[precision],
                              "PERFORMANCE_HINT": hint.upper(), "INFERENCE_NUM_THREADS": threads}
    if pin_threads is not None:
        config["ENABLE_CPU_PINNING"] = bool(pin_threads)
    if batch is None:
        return _core().compile_model(str(path), "CPU", config)
    model = _core().read_model(str(path))
    shape = list(model.inputs[0].get_partial_shape())
    if input_size is not None and len(input_size) == len(shape) - 1:
        dims = [int(batch), *(int(d) for d in input_size)]
    else:  # the file's own (static) height and width
        dims = [int(batch), *(d.get_length() for d in shape[1:])]
    model.reshape({model.inputs[0]: dims})
    return _core().compile_model(model, "CPU", config)


def _static_input_size(path: Path, cfg: Mapping[str, Any]) -> list[int]:
    """The ``(C, H, W)`` a fixed-batch compile uses: the file's static dims, else its
    metadata's ``input_size``."""
    model = _core().read_model(str(path))
    dims = list(model.inputs[0].get_partial_shape())[1:]
    if all(d.is_static for d in dims):
        return [d.get_length() for d in dims]
    size = cfg.get("input_size")
    if not size or len(size) != len(dims):
        raise PrecisionError(f"{str(path)!r}: batch= needs a static input size, and the file "
                             "has dynamic dimensions besides the batch and no input_size in "
                             "its metadata")
    return [int(d) for d in size]


def _onnxruntime_reference(path: Path, threads: int) -> Callable[[np.ndarray], np.ndarray]:
    session = ort_session(path, threads)
    name = session.get_inputs()[0].name
    return lambda x: np.asarray(session.run(None, {name: x})[0])


def compile_onnx(
    path: str | os.PathLike[str],
    *,
    precision: str = "auto",
    threads: int | None = None,
    hint: str = "latency",
    batch: int | None = None,
    pin_threads: bool | None = False,
    reference: Callable[[np.ndarray], np.ndarray] | None = None,
    reference_name: str = "eager fp32",
    inputs: np.ndarray | None = None,
    verify_result: bool = True,
    atol: float = DEFAULT_ATOL,
    rtol: float = DEFAULT_RTOL,
    min_agreement: float = DEFAULT_MIN_AGREEMENT,
    timing_repeats: int = 6,
) -> OpenVINOModel:
    """Compile a cnnzoo ONNX file with OpenVINO on the CPU, verified at its precision.

    Args:
        path: an ``.onnx`` file written by :func:`cnnzoo.export.to_onnx` or
            :func:`cnnzoo.quantize` (FP32, INT8 QDQ or FP16).
        precision: ``"auto"`` (the fastest native precision that passes verification),
            ``"fp32"``, ``"bf16"`` or ``"fp16"`` (these two only where OpenVINO reports them
            among the CPU's ``OPTIMIZATION_CAPABILITIES``). For an INT8 file it is the
            precision of the layers left in float.
        threads: ``INFERENCE_NUM_THREADS`` (default: every core this process may use).
        hint: ``PERFORMANCE_HINT``: ``"latency"`` or ``"throughput"``.
        batch: compile for this fixed batch size (a static input shape: OpenVINO's
            static-shape kernels, no shape inference per call); other batch sizes run
            in chunks of it. Default: the file's shape (a dynamic batch for cnnzoo's
            exports).
        pin_threads: ``ENABLE_CPU_PINNING`` (default off, like onnxruntime's and torch's
            threads; ``None``: OpenVINO's choice for the hint, which pins).
        reference: the reference outputs of a batch — eager fp32 of the model the file
            came from. Default: onnxruntime on the same file.
        reference_name: what ``reference`` is, for the report.
        inputs: real inputs for the top-1 checks (default: 32 photo crops or digits).
        verify_result: check every precision before using it (``False`` only for a
            caller that verifies itself, as ``cnnzoo bench`` does).
        atol: absolute tolerance of the fp32 check (export's default).
        rtol: tolerance relative to the largest reference output.
        min_agreement: the top-1 agreement bf16 / fp16 / an INT8 file needs.
        timing_repeats: timed calls per precision when ``"auto"`` compares several.

    Returns:
        an :class:`OpenVINOModel`; its ``report`` says which precision was chosen and why.

    Raises:
        BackendUnavailableError: OpenVINO is not installed.
        PrecisionError: a bad argument, a precision the CPU has no native support for,
            or a file without cnnzoo metadata.
        VerificationError: no precision passed verification (``exc.report``).
    """
    import_openvino()
    threads = _check_arguments(precision, hint, threads)
    if batch is not None and int(batch) < 1:
        raise PrecisionError(f"batch must be at least 1, got {batch}")
    path = Path(path)
    if not path.is_file():
        raise PrecisionError(f"{str(path)!r}: no such file")
    cfg, quantization = _file_facts(path)
    size = _static_input_size(path, cfg) if batch is not None else None
    shape = f"static [{', '.join(map(str, [int(batch), *size]))}]" if batch is not None and \
        size is not None else "the file's (batch as exported)"
    report = PrecisionReport(
        "openvino" + (f" ({quantization['method']} file)" if quantization else ""), str(path),
        precision, settings={
            "device": str(_core().get_property("CPU", "FULL_DEVICE_NAME")),
            "capabilities": ", ".join(capabilities()),
            "threads": f"{threads} (INFERENCE_NUM_THREADS)",
            "hint": f"{hint.upper()} (PERFORMANCE_HINT)",
            "shape": shape,
            "pinning": "OpenVINO's default" if pin_threads is None else
            f"{bool(pin_threads)} (ENABLE_CPU_PINNING)",
            "openvino": str(import_openvino().__version__),
        })
    if reference is None and verify_result:
        reference, reference_name = _onnxruntime_reference(path, threads), \
            "onnxruntime on the same file"
    report.reference = reference_name if verify_result else "not verified"
    wanted = [p for p in _AUTO_ORDER if p in native_precisions()] if precision == "auto" \
        else [precision]
    if precision == "auto":
        skipped = [p for p in _AUTO_ORDER if p not in wanted]
        if skipped:
            report.notes.append(f"not tried: {', '.join(skipped)} (not among the CPU's "
                                "OPTIMIZATION_CAPABILITIES)")
    compiled: dict[str, OpenVINOModel] = {}
    for p in wanted:
        candidate = PrecisionCandidate(p)
        report.candidates.append(candidate)
        try:
            model = OpenVINOModel(path, _compile(path, p, threads, hint, batch, size,
                                                 pin_threads),
                                  p, cfg, quantization, threads, hint, report)
        except Exception as exc:  # OpenVINO refuses the graph at this precision
            candidate.error = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
            continue
        if verify_result and reference is not None:
            candidate.verification = verify(
                report.backend, p, reference_name, reference, model,
                exact=p == "fp32" and quantization is None, cfg=cfg, inputs=inputs,
                batch=model.fixed_batch, atol=atol, rtol=rtol, min_agreement=min_agreement)
            if not candidate.verification.passed:
                continue
        compiled[p] = model
    if not compiled:
        raise refuse(report, f"OpenVINO on {str(path)!r}")
    if len(compiled) > 1:
        _time(compiled, report, cfg, timing_repeats)
        chosen = min(compiled, key=lambda p: report.candidate(p).median_ms or float("inf"))
    else:
        chosen = next(iter(compiled))
    report.chosen = chosen
    if not verify_result:
        report.notes.append("not verified here: the caller verifies")
    return compiled[chosen]


def _time(models: Mapping[str, OpenVINOModel], report: PrecisionReport, cfg: Mapping[str, Any],
          repeats: int) -> None:
    """Median latency of each model at batch 1 (its fixed batch), two interleaved rounds."""
    times: dict[str, list[float]] = {p: [] for p in models}
    calls = {}
    for p, model in models.items():
        size: Sequence[int] = cfg["input_size"]
        x = np.random.default_rng(0).standard_normal(
            (model.fixed_batch or 1, *size)).astype(np.float32)
        calls[p] = model.timed_call(x)
    for r in range(2):
        for p, call in calls.items():
            times[p] += measure(call, warmup=2 if r == 0 else 1, repeats=max(1, repeats // 2))
    for p, values in times.items():
        report.candidate(p).median_ms = statistics.median(values) * 1e3
