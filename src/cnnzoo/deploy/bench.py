"""The benchmark runner behind ``cnnzoo bench`` and ``bench/deploy_speed.py``.

:func:`run` times one model on several backends — eager PyTorch (fp32 and bf16), eager
with ``channels_last``, ``torch.compile``, onnxruntime FP32 and INT8 (static, QDQ,
per-channel) and OpenVINO fp32, bf16 and INT8 (NNCF's QDQ file) — at several batch
sizes, after warm-up, and reports the median latency, the throughput and the model
size, each with its ratio to eager PyTorch measured in the same run. A backend that
cannot be built (``torch.compile`` without a working C++ toolchain, an export
failure, OpenVINO not installed…) is reported in the table, not raised. By default
every backend × precision the machine runs is timed (:func:`available_backends`:
bf16 only where the hardware reports native bf16, OpenVINO where it is installed).

Before a backend's time counts, its outputs are checked against eager fp32
(:mod:`cnnzoo.deploy.precision`): fp32 backends within export's tolerance on the
timed inputs and on real digits of the same shape, bf16 and INT8 by top-1 agreement
on real images (photo crops for a 3-channel model, digits otherwise; INT8 is
calibrated on other crops, or on the digits train split). A backend that fails is
shown with its numbers and never named the fastest; :meth:`BenchResult.fastest` is the
fastest that passed, and :func:`export_fastest` writes its artefact (``cnnzoo export
MODEL --fastest``).

Every backend runs with the same number of threads (``threads``, default: torch's).
Timing is :func:`cnnzoo.deploy.timing.measure` (the quantization report uses the same)
and onnxruntime sessions come from :func:`cnnzoo.deploy.runtime.ort_session`.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from cnnzoo._utils import text_table
from cnnzoo.deploy import openvino_backend
from cnnzoo.deploy.export import to_exported_program, to_onnx
from cnnzoo.deploy.precision import (
    DEFAULT_MIN_AGREEMENT,
    DEFAULT_VERIFY_SAMPLES,
    Check,
    autocast,
    check_precision,
    device_type,
    eager_runner,
    max_abs_check,
    native_bf16,
    photo_crops,
    reference_inputs,
    reference_kind,
    top1_check,
)
from cnnzoo.deploy.quantization import quantize
from cnnzoo.deploy.quantization.nncf_engine import import_nncf
from cnnzoo.deploy.runtime import (
    ModelSource,
    commit,
    file_size,
    metadata_for,
    model_config,
    ort_session,
    resolve_input_size,
    resolve_model,
    staging,
)
from cnnzoo.deploy.timing import measure, ort_latency
from cnnzoo.errors import AccuracyDropError, BackendUnavailableError, BenchError

__all__ = ["BACKENDS", "PRECISION_OF", "BenchResult", "BenchRow", "FastestExport",
           "available_backends", "export_fastest", "file_size", "measure", "ort_latency",
           "ort_session", "run"]

BACKENDS: tuple[str, ...] = ("eager", "eager-bf16", "channels_last", "compile", "onnx", "int8",
                             "openvino", "openvino-bf16", "openvino-int8")
TORCH_BACKENDS: tuple[str, ...] = ("eager", "eager-bf16", "channels_last", "compile")
OPENVINO_BACKENDS: tuple[str, ...] = ("openvino", "openvino-bf16", "openvino-int8")
PRECISION_OF: dict[str, str] = {
    "eager": "fp32", "eager-bf16": "bf16", "channels_last": "fp32", "compile": "fp32",
    "onnx": "fp32", "int8": "int8", "openvino": "fp32", "openvino-bf16": "bf16",
    "openvino-int8": "int8"}
"""Each backend's precision: fp32 ones are checked value by value, the others by top-1."""

_Key = tuple[str, int]


@dataclass
class BenchRow:
    """One backend at one batch size."""

    backend: str
    batch: int
    median_ms: float | None = None
    throughput: float | None = None
    size_bytes: int | None = None
    latency_ratio: float | None = None
    throughput_ratio: float | None = None
    size_ratio: float | None = None
    samples: int = 0
    error: str | None = None
    setup_s: float | None = None
    check: str | None = None
    verified: bool | None = None
    detail: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def usable(self) -> bool:
        """Built, timed and verified against eager fp32."""
        return self.ok and self.verified is True and self.median_ms is not None


@dataclass
class BenchResult:
    """All rows of one benchmark run, with its settings."""

    model: str
    input_size: tuple[int, int, int]
    threads: int
    warmup: int
    repeats: int
    rows: list[BenchRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)

    def row(self, backend: str, batch: int) -> BenchRow:
        """The row of ``backend`` at ``batch`` (``KeyError`` if it was not run)."""
        for r in self.rows:
            if r.backend == backend and r.batch == batch:
                return r
        raise KeyError((backend, batch))

    def fastest(self, batch: int | None = None) -> BenchRow | None:
        """The fastest row at ``batch`` (default: the smallest) that passed verification."""
        batch = min((r.batch for r in self.rows), default=1) if batch is None else batch
        rows = [r for r in self.rows if r.batch == batch and r.usable]
        return min(rows, key=lambda r: r.median_ms or float("inf"), default=None)

    def table(self) -> str:
        """The settings, then one row per backend and batch size, as aligned text."""
        def num(value: float | None, fmt: str) -> str:
            return "-" if value is None else format(value, fmt)

        def status(r: BenchRow) -> str:
            if not r.ok:
                return f"failed: {r.error}"
            if r.verified is False:
                return f"FAILED verification: {r.check}"
            return "ok" if not r.check else f"ok: {r.check}"

        rows = [
            (r.backend, r.batch, num(r.median_ms, ".2f"), num(r.latency_ratio, ".2f") + "x"
             if r.latency_ratio is not None else "-", num(r.throughput, ".1f"),
             num(r.throughput_ratio, ".2f") + "x" if r.throughput_ratio is not None else "-",
             num(r.size_bytes / 1e6 if r.size_bytes is not None else None, ".1f"),
             num(r.size_ratio, ".2f") + "x" if r.size_ratio is not None else "-",
             status(r))
            for r in self.rows
        ]
        head = (f"{self.model} {'x'.join(map(str, self.input_size))}, {self.threads} thread(s), "
                f"median of >= {self.repeats} runs after {self.warmup} warm-up")
        text = head + "\n\n" + text_table(
            ("backend", "batch", "median ms", "vs eager", "images/s", "vs eager", "size MB",
             "vs eager", "status"), rows)
        lines = []
        for batch in sorted({r.batch for r in self.rows}):
            best = self.fastest(batch)
            if best is None or best.median_ms is None:
                lines.append(f"fastest verified at batch {batch}: none")
                continue
            ratio = f", {best.latency_ratio:.2f}x eager" if best.latency_ratio else ""
            lines.append(f"fastest verified at batch {batch}: {best.backend} "
                         f"({best.median_ms:.2f} ms{ratio})")
        first = min((r.batch for r in self.rows), default=0)
        lines += [f"{r.backend}: {r.detail}" for r in self.rows if r.detail and r.batch == first]
        if lines:
            text += "\n\n" + "\n".join(lines)
        if self.notes:
            text += "\n\n" + "\n".join(f"note: {n}" for n in self.notes)
        return text

    __str__ = table

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (``cnnzoo bench --json``)."""
        batches = sorted({r.batch for r in self.rows})
        return {
            "model": self.model, "input_size": list(self.input_size), "threads": self.threads,
            "warmup": self.warmup, "repeats": self.repeats, "notes": list(self.notes),
            "versions": dict(self.versions),
            "rows": [{
                "backend": r.backend, "batch": r.batch, "median_ms": r.median_ms,
                "throughput": r.throughput, "size_bytes": r.size_bytes,
                "latency_ratio": r.latency_ratio, "throughput_ratio": r.throughput_ratio,
                "size_ratio": r.size_ratio, "samples": r.samples, "error": r.error,
                "setup_s": r.setup_s, "precision": PRECISION_OF.get(r.backend),
                "check": r.check, "verified": r.verified, "detail": r.detail,
            } for r in self.rows],
            "fastest": {str(b): (best.backend if (best := self.fastest(b)) else None)
                        for b in batches},
        }


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:160]}"


# -- which backends this machine runs ------------------------------------------------------


def available_backends() -> tuple[tuple[str, ...], list[str]]:
    """Every backend × precision this machine runs, and why the others are left out.

    bf16 needs native bf16 (the CPU's flags for eager PyTorch, OpenVINO's
    ``OPTIMIZATION_CAPABILITIES`` for OpenVINO); the OpenVINO backends need the
    ``openvino`` extra.

    Returns:
        ``(backends, notes)``.
    """
    notes: list[str] = []
    skip: set[str] = set()
    native, evidence = native_bf16("cpu")
    if not native:
        skip.add("eager-bf16")
        notes.append(f"eager-bf16 left out: {evidence}")
    if not openvino_backend.available():
        skip.update(OPENVINO_BACKENDS)
        notes.append(f"openvino backends left out: not installed ({openvino_backend.INSTALL_HINT})")
    elif "bf16" not in openvino_backend.native_precisions():
        skip.add("openvino-bf16")
        notes.append("openvino-bf16 left out: OpenVINO reports no BF16 among the CPU's "
                     f"OPTIMIZATION_CAPABILITIES ({', '.join(openvino_backend.capabilities())})")
    return tuple(b for b in BACKENDS if b not in skip), notes


# -- building the backends ---------------------------------------------------------------


@dataclass
class _Built:
    """One backend ready to time: a call per batch size, and a function for verification."""

    calls: dict[int, Callable[[], Any]]
    run: Callable[[np.ndarray], np.ndarray]
    size_bytes: int | None
    detail: str | None = None


def _torch_call(net: Callable[[torch.Tensor], Any], x: torch.Tensor, precision: str = "fp32"
                ) -> Callable[[], Any]:
    def call() -> Any:
        with torch.inference_mode(), autocast(precision):
            return net(x)

    return call


def _torch_net(module: nn.Module, backend: str
               ) -> tuple[Callable[[torch.Tensor], Any], torch.memory_format]:
    """Eager fp32, eager on a ``channels_last`` copy (fp32, or bf16: oneDNN's bf16 kernels
    work in NHWC), or ``torch.compile``."""
    if backend in ("channels_last", "eager-bf16"):
        return copy.deepcopy(module).to(memory_format=torch.channels_last), torch.channels_last
    if backend == "compile":
        return torch.compile(module), torch.contiguous_format
    return module, torch.contiguous_format


def _torch_built(module: nn.Module, backend: str, inputs: dict[int, torch.Tensor],
                 eager_size: int) -> _Built:
    precision = check_precision(PRECISION_OF[backend], device_type(module))  # bf16: native?
    net, fmt = _torch_net(module, backend)
    calls = {b: _torch_call(net, x.contiguous(memory_format=fmt), precision)
             for b, x in inputs.items()}

    def run(x: np.ndarray) -> np.ndarray:  # torch.compile: the timed shapes, no recompile
        batch = torch.from_numpy(np.array(x, dtype=np.float32)).contiguous(memory_format=fmt)
        out = _torch_call(net, batch, precision)()
        return out.float().numpy()

    detail = ("torch.autocast('cpu', dtype=torch.bfloat16) on a channels_last copy"
              if backend == "eager-bf16" else None)
    return _Built(calls, run, eager_size, detail)


class _OnnxFiles:
    """The FP32 export (made once, on first use) and the INT8 models of one benchmark."""

    def __init__(self, module: nn.Module, name: str, size: Sequence[int], folder: Path,
                 num_calibration: int, max_drop: float | None = None) -> None:
        self.module, self.name, self.size, self.folder = module, name, size, folder
        self.num_calibration, self.max_drop = num_calibration, max_drop
        self._fp32: Path | None = None
        self._error: str | None = None
        self.engines: dict[str, str] = {}
        self.notes: dict[str, str] = {}

    def fp32(self) -> Path:
        if self._error is None and self._fp32 is None:
            path = self.folder / f"{self.name}.onnx"
            try:
                to_onnx(self.module, path, input_size=self.size)
                self._fp32 = path
            except Exception as exc:
                self._error = f"export failed: {_short(exc)}"
        if self._fp32 is None:
            raise RuntimeError(self._error)
        return self._fp32

    def int8(self, engine: str) -> Path:
        """Static INT8 of the FP32 file by ``engine``, made once: calibrated on real photo
        crops for a 3-channel model (others than the ones it is verified on), else on the
        digits train split.

        With ``max_drop``, quantize's accuracy gate and fallback ladder run first, on a
        third set of crops (the digits test split for digits models): the file is the
        first configuration within the gate. When none is, the plain first
        configuration is written, and verification reports how far off it is."""
        suffix = "int8" if engine == "onnxruntime" else f"{engine}.int8"
        out = self.folder / f"{self.name}.{suffix}.onnx"
        if str(out) not in self.engines:
            photos = self.size[0] == 3
            calibration: Any = photo_crops(self.num_calibration, seed=1) if photos else "digits"
            options: dict[str, Any] = dict(
                method="int8-static", calibration=calibration,
                num_calibration=self.num_calibration, output=out, latency_batch_sizes=(),
                engine=engine)
            written, note = self._gated(options, photos, self.max_drop) \
                if self.max_drop is not None else (False, "")
            if not written:
                quantize(self.fp32(), **options)
            self.notes[str(out)] = note
            self.engines[str(out)] = engine
        return out

    def _gated(self, options: dict[str, Any], photos: bool, max_drop: float
               ) -> tuple[bool, str]:
        """Quantize within ``max_drop``: whether a file was written, and what the fallback
        ladder did, in words (empty when the first configuration passed)."""
        eval_data: Any = photo_crops(self.num_calibration, seed=2) if photos else "digits"
        try:
            report = quantize(self.fp32(), max_accuracy_drop=max_drop, eval_data=eval_data,
                              **options).report
        except AccuracyDropError:
            return False, (f"no configuration of the fallback ladder stayed within "
                           f"{max_drop * 100:g} points of fp32 on held-out inputs: the first "
                           "one is timed")
        if len(report.attempts) == 1:
            return True, ""
        return True, f"accepted fallback: {report.attempts[-1].description}"

    def path(self, backend: str) -> Path:
        if backend in ("onnx", "openvino", "openvino-bf16"):
            return self.fp32()
        if backend == "openvino-int8":
            try:
                import_nncf()
            except BackendUnavailableError:
                return self.int8("onnxruntime")
            return self.int8("nncf")
        return self.int8("onnxruntime")


def _onnx_calls(path: Path, threads: int, inputs: dict[int, torch.Tensor]
                ) -> dict[int, Callable[[], Any]]:
    session = ort_session(path, threads)
    input_name = session.get_inputs()[0].name

    def call(feed: dict[str, Any]) -> Callable[[], Any]:
        return lambda: session.run(None, feed)

    return {b: call({input_name: x.numpy()}) for b, x in inputs.items()}


def _onnx_built(path: Path, threads: int, inputs: dict[int, torch.Tensor],
                note: str | None = None) -> _Built:
    session = ort_session(path, threads)
    name = session.get_inputs()[0].name
    return _Built(_onnx_calls(path, threads, inputs),
                  lambda x: np.asarray(session.run(None, {name: x})[0]), file_size(path),
                  note or None)


def _openvino_built(path: Path, backend: str, threads: int, inputs: dict[int, torch.Tensor],
                    engine: str | None, note: str | None = None) -> _Built:
    """OpenVINO compiled for each timed batch size (a static shape: its fastest kernels).

    The precision of an INT8 file's float layers is the faster of the native ones,
    chosen once at the first batch size; the bench verifies every result itself."""
    precision = {"openvino": "fp32", "openvino-bf16": "bf16"}.get(backend, "auto")
    first, *others = sorted(inputs)
    model = openvino_backend.compile_onnx(path, precision=precision, threads=threads,
                                          batch=first, verify_result=False)
    models = {first: model}
    models.update({b: openvino_backend.compile_onnx(path, precision=model.precision,
                                                    threads=threads, batch=b,
                                                    verify_result=False) for b in others})
    calls = {b: models[b].timed_call(x.numpy()) for b, x in inputs.items()}
    runner = models[max(models)]  # verification batches: chunks of the largest batch
    detail = "static batch shape, LATENCY hint"
    if backend == "openvino-int8":
        detail = (f"{engine or 'onnxruntime'}'s QDQ file, float layers in {model.precision} "
                  f"(the faster); {detail}" + (f"; {note}" if note else ""))
    return _Built(calls, runner, file_size(path), detail)


def _build(module: nn.Module, backends: Sequence[str], inputs: dict[int, torch.Tensor],
           files: _OnnxFiles, threads: int
           ) -> tuple[dict[_Key, Callable[[], Any]], dict[_Key, BenchRow], dict[str, _Built]]:
    """Every backend's calls per batch size; a backend that fails gets error rows."""
    eager_size = sum(t.numel() * t.element_size()
                     for t in (*module.parameters(), *module.buffers()))
    calls: dict[_Key, Callable[[], Any]] = {}
    rows: dict[_Key, BenchRow] = {}
    built_all: dict[str, _Built] = {}
    for backend in backends:
        start = time.perf_counter()
        error = None
        built: _Built | None = None
        try:
            if backend in TORCH_BACKENDS:
                built = _torch_built(module, backend, inputs, eager_size)
            elif backend in OPENVINO_BACKENDS:
                openvino_backend.import_openvino()
                path = files.path(backend)
                built = _openvino_built(path, backend, threads, inputs,
                                        files.engines.get(str(path)), files.notes.get(str(path)))
            else:
                path = files.path(backend)
                built = _onnx_built(path, threads, inputs, files.notes.get(str(path)))
            calls.update({(backend, b): fn for b, fn in built.calls.items()})
            built_all[backend] = built
        except Exception as exc:
            error = _short(exc)
        setup_s = time.perf_counter() - start
        for b in inputs:
            rows[(backend, b)] = BenchRow(
                backend, b, size_bytes=None if error or built is None else built.size_bytes,
                setup_s=setup_s, error=error, detail=built.detail if built else None)
    return calls, rows, built_all


# -- verification ------------------------------------------------------------------------


def _verify(built: dict[str, _Built], rows: dict[_Key, BenchRow],
            inputs: dict[int, torch.Tensor], cfg: dict[str, Any],
            reference: Callable[[np.ndarray], np.ndarray], *, samples: int,
            min_agreement: float) -> None:
    """Each built backend against eager fp32: values for fp32, top-1 for bf16 and INT8."""
    largest = max(inputs)
    exact_inputs = [(f"random b{b}", x.numpy()) for b, x in inputs.items()]
    exact_inputs.append((f"{reference_kind(cfg)} b{largest}", reference_inputs(cfg, largest)))
    expected = {name: reference(x) for name, x in exact_inputs}
    real = reference_inputs(cfg, samples)
    kind = reference_kind(cfg)
    expected_top1 = reference(real)
    for backend, b in built.items():
        checks: list[Check] = []
        start = time.perf_counter()
        mine = [row for key, row in rows.items() if key[0] == backend]
        try:
            if backend == "eager":
                checks = []
            elif PRECISION_OF[backend] == "fp32":
                checks = [max_abs_check(name, expected[name], b.run(x))
                          for name, x in exact_inputs]
            else:
                checks = [top1_check(kind, expected_top1, b.run(real),
                                     min_agreement=min_agreement)]
        except Exception as exc:  # e.g. torch.compile failing at its first call
            for row in mine:
                row.error, row.size_bytes = _short(exc), None
            continue
        for row in mine:  # a compile happens here: count it as setup
            row.setup_s = (row.setup_s or 0.0) + time.perf_counter() - start
        failing = [c for c in checks if not c.passed]
        shown = failing[0] if failing else (max(checks, key=lambda c: c.value / c.limit
                                                if c.kind == "max-abs" and c.limit
                                                else 1 - c.value) if checks else None)
        for row in mine:
            row.verified = not failing
            row.check = "the reference" if backend == "eager" else (
                shown.describe() if shown else None)


# -- timing ------------------------------------------------------------------------------


def _time_interleaved(calls: dict[_Key, Callable[[], Any]], rows: dict[_Key, BenchRow], *,
                      warmup: int, repeats: int, rounds: int, min_seconds: float
                      ) -> dict[_Key, list[float]]:
    """``rounds`` rounds over every case; a case failing at run time gets an error row."""
    times: dict[_Key, list[float]] = {key: [] for key in calls}
    rounds = max(1, int(rounds))
    per_round = max(1, -(-int(repeats) // rounds))
    for r in range(rounds):
        for key, fn in calls.items():
            row = rows[key]
            if row.error:
                continue
            try:
                if r == 0:  # warm-up; a compile happens here: count it as setup
                    t0 = time.perf_counter()
                    for _ in range(max(0, warmup)):
                        fn()
                    row.setup_s = (row.setup_s or 0.0) + time.perf_counter() - t0
                times[key] += measure(fn, warmup=0 if r == 0 else 1, repeats=per_round,
                                      min_seconds=min_seconds / rounds)
            except Exception as exc:  # e.g. torch.compile failing at its first call
                row.error, row.size_bytes = _short(exc), None
    return times


def _fill(result: BenchResult, rows: dict[_Key, BenchRow], times: dict[_Key, list[float]]
          ) -> None:
    for key, row in rows.items():
        if not row.error and times.get(key):
            row.median_ms = statistics.median(times[key]) * 1e3
            row.throughput = row.batch / (row.median_ms / 1e3)
            row.samples = len(times[key])
        result.rows.append(row)
    _ratios(result)


def _ratios(result: BenchResult) -> None:
    for row in result.rows:
        try:
            base = result.row("eager", row.batch)
        except KeyError:
            continue
        if row.ok and base.ok and base.median_ms and row.median_ms:
            row.latency_ratio = row.median_ms / base.median_ms
            row.throughput_ratio = (row.throughput or 0) / (base.throughput or 1)
        if row.size_bytes is not None and base.size_bytes:
            row.size_ratio = row.size_bytes / base.size_bytes


@contextlib.contextmanager
def _folder(workdir: str | os.PathLike[str] | None) -> Iterator[Path]:
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="cnnzoo-bench-") as tmp:
            yield Path(tmp)
        return
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    yield folder


def _check_arguments(backends: Sequence[str], batch_sizes: Sequence[int]) -> None:
    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise BenchError(f"unknown backend(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(BACKENDS)}")
    if not batch_sizes or any(int(b) < 1 for b in batch_sizes):
        raise BenchError(f"batch sizes must be positive integers, got {list(batch_sizes)}")


def _select(backends: Sequence[str] | None, precision: str | None) -> tuple[list[str], list[str]]:
    notes: list[str] = []
    if backends is None:
        available, notes = available_backends()
        chosen = list(available)
    else:
        chosen = list(backends)
    if precision is not None:
        if precision not in set(PRECISION_OF.values()):
            raise BenchError(f"precision {precision!r} is not one of fp32, bf16, int8")
        chosen = [b for b in chosen if PRECISION_OF.get(b) == precision]
    return chosen, notes


# -- the runner --------------------------------------------------------------------------


def run(
    model: ModelSource,
    *,
    backends: Sequence[str] | None = None,
    batch_sizes: Sequence[int] = (1, 8),
    input_size: Sequence[int] | None = None,
    warmup: int = 3,
    repeats: int = 10,
    rounds: int = 2,
    min_seconds: float = 0.0,
    threads: int | None = None,
    pretrained: bool | str = False,
    num_calibration: int = 32,
    workdir: str | os.PathLike[str] | None = None,
    precision: str | None = None,
    verify: bool = True,
    verify_samples: int = DEFAULT_VERIFY_SAMPLES,
    min_agreement: float = DEFAULT_MIN_AGREEMENT,
) -> BenchResult:
    """Benchmark a model on several backends and batch sizes.

    All backends are built first and verified against eager fp32, then timed
    **interleaved**: ``rounds`` rounds, each running every backend at every batch size,
    so that a change in the machine's load during the run hits every backend alike and
    the ratios stay meaningful.

    Args:
        model: a registered name, a saved model folder or an ``nn.Module`` from ``create``.
        backends: any of :data:`BACKENDS` (``eager``, ``eager-bf16``, ``channels_last``,
            ``compile``, ``onnx``, ``int8``, ``openvino``, ``openvino-bf16``,
            ``openvino-int8``); default: every one this machine runs
            (:func:`available_backends`).
        batch_sizes: batch sizes to time.
        input_size: ``(C, H, W)``; default: the model's.
        warmup: unrecorded calls per backend and batch size before its first round.
        repeats: timed calls per backend and batch size, spread over the rounds.
        rounds: interleaved rounds.
        min_seconds: keep timing each case at least this long in total.
        threads: intra-op threads for torch, onnxruntime and OpenVINO (default: torch's
            setting). On a shared machine 1 is the stable choice.
        pretrained: weights for a model given by name.
        num_calibration: images calibrating the INT8 backends (photo crops for 3-channel
            models, else digits). With ``verify``, quantization's accuracy gate
            (``1 - min_agreement``) and fallback ladder run first, on as many other crops
            (the digits test split for digits models).
        workdir: where the ONNX files go (default: a temporary directory, removed).
        precision: keep only the backends of this precision (``fp32``, ``bf16``, ``int8``).
        verify: check every backend against eager fp32 (the fastest is chosen among
            those that pass).
        verify_samples: real images of the top-1 checks.
        min_agreement: the top-1 agreement bf16 and INT8 need.

    Returns:
        a :class:`BenchResult`; ``ratio`` columns compare with ``eager`` at the same
        batch size (``latency_ratio`` < 1 and ``throughput_ratio`` > 1 mean faster).

    Raises:
        BenchError: an unknown backend or precision, or a batch size below 1.
    """
    import onnxruntime

    chosen, notes = _select(backends, precision)
    _check_arguments(chosen, batch_sizes)
    if threads:
        torch.set_num_threads(int(threads))
    threads = torch.get_num_threads()
    module = resolve_model(model, pretrained=pretrained).eval()
    size = resolve_input_size(module, input_size)
    name = str(model_config(module).architecture or type(module).__name__)
    versions = {"torch": torch.__version__, "onnxruntime": onnxruntime.__version__}
    if openvino_backend.available():
        versions["openvino"] = str(openvino_backend.import_openvino().__version__)
    result = BenchResult(name, size, threads, warmup, repeats, notes=notes, versions=versions)
    inputs = {int(b): torch.randn(int(b), *size, generator=torch.Generator().manual_seed(0))
              for b in batch_sizes}
    reference = eager_runner(module, "fp32")
    with _folder(workdir) as folder:
        files = _OnnxFiles(module, name, size, folder, num_calibration,
                           max_drop=1 - min_agreement if verify else None)
        calls, rows, built = _build(module, chosen, inputs, files, threads)
        if verify:
            _verify(built, rows, inputs, metadata_for(module, size), reference,
                    samples=verify_samples, min_agreement=min_agreement)
        else:
            result.notes.append("not verified (verify=False): no backend is named the fastest")
        times = _time_interleaved(calls, rows, warmup=warmup, repeats=repeats, rounds=rounds,
                                  min_seconds=min_seconds)
        _fill(result, rows, times)
    return result


# -- the fastest artefact --------------------------------------------------------------------

_RUN_WITH = {
    "eager": "torch.export.load(path).module() in float32",
    "eager-bf16": "torch.export.load(path).module() on channels_last inputs under "
                  "torch.autocast('cpu', dtype=torch.bfloat16)",
    "channels_last": "torch.export.load(path).module() on channels_last inputs",
    "compile": "torch.compile(torch.export.load(path).module())",
    "onnx": "onnxruntime: cnnzoo predict PATH IMAGE…",
    "int8": "onnxruntime: cnnzoo predict PATH IMAGE…",
    "openvino": "OpenVINO fp32: cnnzoo predict PATH IMAGE… --backend openvino --precision fp32",
    "openvino-bf16": "OpenVINO bf16: cnnzoo predict PATH IMAGE… --backend openvino "
                     "--precision bf16",
    "openvino-int8": "OpenVINO: cnnzoo predict PATH IMAGE… --backend openvino",
}


@dataclass
class FastestExport:
    """What :func:`export_fastest` wrote: the artefact, its report, and the benchmark."""

    path: Path
    report_path: Path
    backend: str
    precision: str
    run_with: str
    bench: BenchResult

    def to_dict(self) -> dict[str, Any]:
        best = self.bench.fastest()
        return {"path": str(self.path), "report": str(self.report_path),
                "backend": self.backend, "precision": self.precision,
                "run_with": self.run_with.replace("PATH", str(self.path)),
                "median_ms": best.median_ms if best else None,
                "latency_ratio": best.latency_ratio if best else None,
                "check": best.check if best else None, "bench": self.bench.to_dict()}

    def table(self) -> str:
        return (self.bench.table() + f"\n\nwrote {self.path} ({self.backend}, "
                f"{self.precision}); run it with {self.run_with.replace('PATH', str(self.path))}"
                f"\nreport: {self.report_path}")

    __str__ = table


def _made_file(folder: Path, name: str, backend: str) -> Path:
    """The file :class:`_OnnxFiles` wrote for ``backend`` in ``folder``."""
    if backend in ("onnx", "openvino", "openvino-bf16"):
        return folder / f"{name}.onnx"
    nncf = folder / f"{name}.nncf.int8.onnx"
    return nncf if backend == "openvino-int8" and nncf.is_file() else folder / f"{name}.int8.onnx"


def _artefact_path(out: Path, backend: str) -> Path:
    suffix = ".pt2" if backend in TORCH_BACKENDS else ".onnx"
    if out.suffix in (".onnx", ".pt2") and out.suffix != suffix:
        return out.with_suffix(suffix)
    return out if out.suffix else out.with_name(out.name + suffix)


def export_fastest(
    model: ModelSource,
    out: str | os.PathLike[str],
    *,
    backends: Sequence[str] | None = None,
    batch: int = 1,
    input_size: Sequence[int] | None = None,
    threads: int | None = None,
    warmup: int = 3,
    repeats: int = 10,
    rounds: int = 2,
    pretrained: bool | str = False,
    num_calibration: int = 32,
) -> FastestExport:
    """Benchmark every backend at ``batch``, then write the fastest verified one's artefact.

    The artefact is the ``.onnx`` file (FP32 for onnxruntime and OpenVINO fp32/bf16,
    the INT8 QDQ file for ``int8``/``openvino-int8``) or, when an eager PyTorch backend
    wins, a verified ``.pt2`` program; the suffix of ``out`` is adjusted to match. Its
    report — the backend, the precision, how to run it and the whole benchmark — is
    written beside it as JSON (``out`` with the suffix ``.json``).

    Raises:
        BenchError: no backend passed verification (nothing is written).
    """
    module = resolve_model(model, pretrained=pretrained).eval()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".cnnzoo-fastest-", dir=out.parent) as tmp:
        result = run(module, backends=backends, batch_sizes=(batch,), input_size=input_size,
                     warmup=warmup, repeats=repeats, rounds=rounds, threads=threads,
                     num_calibration=num_calibration, workdir=tmp)
        best = result.fastest(batch)
        if best is None:
            failed = "; ".join(f"{r.backend}: {r.error or r.check}" for r in result.rows)
            raise BenchError(f"no backend passed verification, nothing written ({failed})")
        path = _artefact_path(out, best.backend)
        if best.backend in TORCH_BACKENDS:
            to_exported_program(module, path, input_size=input_size)
        else:
            made = _made_file(Path(tmp), result.model, best.backend)
            with staging(path) as stage:
                staged = stage / path.name
                shutil.copyfile(made, staged)
                data = made.with_name(made.name + ".data")
                if data.exists():
                    shutil.copyfile(data, staged.with_name(staged.name + ".data"))
                commit(staged, path)
    exported = FastestExport(path, path.with_suffix(".json"), best.backend,
                             PRECISION_OF[best.backend], _RUN_WITH[best.backend], result)
    exported.report_path.write_text(json.dumps(exported.to_dict(), indent=2) + "\n",
                                    encoding="utf-8")
    return exported
