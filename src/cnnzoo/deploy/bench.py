"""The benchmark runner behind ``cnnzoo bench`` and ``bench/deploy_speed.py``.

:func:`run` times one model on several backends — eager PyTorch, eager with
``channels_last``, ``torch.compile``, onnxruntime FP32 and onnxruntime INT8 (static,
QDQ, per-channel) — at several batch sizes, after warm-up, and reports the median
latency, the throughput and the model size, each with its ratio to eager PyTorch
measured in the same run. A backend that cannot be built (``torch.compile`` without
a working C++ toolchain, an export failure…) is reported in the table, not raised.

Every backend runs with the same number of threads (``threads``, default: torch's).
Timing is :func:`cnnzoo.deploy.timing.measure` (the quantization report uses the same)
and onnxruntime sessions come from :func:`cnnzoo.deploy.runtime.ort_session`.
"""

from __future__ import annotations

import contextlib
import copy
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnzoo._utils import text_table
from cnnzoo.deploy.export import to_onnx
from cnnzoo.deploy.quantization import quantize
from cnnzoo.deploy.runtime import (
    ModelSource,
    file_size,
    model_config,
    ort_session,
    resolve_input_size,
    resolve_model,
)
from cnnzoo.deploy.timing import measure, ort_latency
from cnnzoo.errors import BenchError

__all__ = ["BACKENDS", "BenchResult", "BenchRow", "file_size", "measure", "ort_latency",
           "ort_session", "run"]

BACKENDS: tuple[str, ...] = ("eager", "channels_last", "compile", "onnx", "int8")
TORCH_BACKENDS: tuple[str, ...] = ("eager", "channels_last", "compile")

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

    @property
    def ok(self) -> bool:
        return self.error is None


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

    def table(self) -> str:
        """The settings, then one row per backend and batch size, as aligned text."""
        def num(value: float | None, fmt: str) -> str:
            return "-" if value is None else format(value, fmt)

        rows = [
            (r.backend, r.batch, num(r.median_ms, ".2f"), num(r.latency_ratio, ".2f") + "x"
             if r.latency_ratio is not None else "-", num(r.throughput, ".1f"),
             num(r.throughput_ratio, ".2f") + "x" if r.throughput_ratio is not None else "-",
             num(r.size_bytes / 1e6 if r.size_bytes is not None else None, ".1f"),
             num(r.size_ratio, ".2f") + "x" if r.size_ratio is not None else "-",
             "ok" if r.ok else f"failed: {r.error}")
            for r in self.rows
        ]
        head = (f"{self.model} {'x'.join(map(str, self.input_size))}, {self.threads} thread(s), "
                f"median of >= {self.repeats} runs after {self.warmup} warm-up")
        text = head + "\n\n" + text_table(
            ("backend", "batch", "median ms", "vs eager", "images/s", "vs eager", "size MB",
             "vs eager", "status"), rows)
        if self.notes:
            text += "\n\n" + "\n".join(f"note: {n}" for n in self.notes)
        return text

    __str__ = table

    def to_dict(self) -> dict[str, Any]:
        """The result as JSON-ready data (``cnnzoo bench --json``)."""
        return {
            "model": self.model, "input_size": list(self.input_size), "threads": self.threads,
            "warmup": self.warmup, "repeats": self.repeats, "notes": list(self.notes),
            "versions": dict(self.versions),
            "rows": [{
                "backend": r.backend, "batch": r.batch, "median_ms": r.median_ms,
                "throughput": r.throughput, "size_bytes": r.size_bytes,
                "latency_ratio": r.latency_ratio, "throughput_ratio": r.throughput_ratio,
                "size_ratio": r.size_ratio, "samples": r.samples, "error": r.error,
                "setup_s": r.setup_s,
            } for r in self.rows],
        }


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text[:160]}"


# -- building the backends ---------------------------------------------------------------


def _torch_call(net: Callable[[torch.Tensor], Any], x: torch.Tensor) -> Callable[[], Any]:
    def call() -> Any:
        with torch.inference_mode():
            return net(x)

    return call


def _torch_calls(module: nn.Module, backend: str, inputs: dict[int, torch.Tensor]
                 ) -> dict[int, Callable[[], Any]]:
    """Eager, eager on a ``channels_last`` copy, or ``torch.compile``, per batch size."""
    net: Callable[[torch.Tensor], Any] = module
    fmt = torch.contiguous_format
    if backend == "channels_last":
        fmt = torch.channels_last
        net = copy.deepcopy(module).to(memory_format=fmt)
    elif backend == "compile":
        net = torch.compile(module)
    return {b: _torch_call(net, x.contiguous(memory_format=fmt)) for b, x in inputs.items()}


class _OnnxFiles:
    """The FP32 export (made once, on first use) and the INT8 model of one benchmark."""

    def __init__(self, module: nn.Module, name: str, size: Sequence[int], folder: Path,
                 num_calibration: int) -> None:
        self.module, self.name, self.size, self.folder = module, name, size, folder
        self.num_calibration = num_calibration
        self._fp32: Path | None = None
        self._error: str | None = None

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

    def path(self, backend: str) -> Path:
        if backend == "onnx":
            return self.fp32()
        return quantize(self.fp32(), method="int8-static", calibration="digits",
                        num_calibration=self.num_calibration,
                        output=self.folder / f"{self.name}.int8.onnx",
                        latency_batch_sizes=()).path


def _onnx_calls(path: Path, threads: int, inputs: dict[int, torch.Tensor]
                ) -> dict[int, Callable[[], Any]]:
    session = ort_session(path, threads)
    input_name = session.get_inputs()[0].name

    def call(feed: dict[str, Any]) -> Callable[[], Any]:
        return lambda: session.run(None, feed)

    return {b: call({input_name: x.numpy()}) for b, x in inputs.items()}


def _build(module: nn.Module, backends: Sequence[str], inputs: dict[int, torch.Tensor],
           files: _OnnxFiles, threads: int) -> tuple[dict[_Key, Callable[[], Any]],
                                                     dict[_Key, BenchRow]]:
    """Every backend's calls per batch size; a backend that fails gets error rows."""
    eager_size = sum(t.numel() * t.element_size()
                     for t in (*module.parameters(), *module.buffers()))
    calls: dict[_Key, Callable[[], Any]] = {}
    rows: dict[_Key, BenchRow] = {}
    for backend in backends:
        start = time.perf_counter()
        size_bytes: int | None = eager_size
        error = None
        try:
            if backend in TORCH_BACKENDS:
                built = _torch_calls(module, backend, inputs)
            else:
                path = files.path(backend)
                built = _onnx_calls(path, threads, inputs)
                size_bytes = file_size(path)
            calls.update({(backend, b): fn for b, fn in built.items()})
        except Exception as exc:
            error = _short(exc)
        setup_s = time.perf_counter() - start
        for b in inputs:
            rows[(backend, b)] = BenchRow(backend, b, size_bytes=None if error else size_bytes,
                                          setup_s=setup_s, error=error)
    return calls, rows


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


# -- the runner --------------------------------------------------------------------------


def run(
    model: ModelSource,
    *,
    backends: Sequence[str] = BACKENDS,
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
) -> BenchResult:
    """Benchmark a model on several backends and batch sizes.

    All backends are built first, then timed **interleaved**: ``rounds`` rounds, each
    running every backend at every batch size, so that a change in the machine's load
    during the run hits every backend alike and the ratios stay meaningful.

    Args:
        model: a registered name, a saved model folder or an ``nn.Module`` from ``create``.
        backends: any of ``eager``, ``channels_last``, ``compile``, ``onnx``, ``int8``.
        batch_sizes: batch sizes to time.
        input_size: ``(C, H, W)``; default: the model's.
        warmup: unrecorded calls per backend and batch size before its first round.
        repeats: timed calls per backend and batch size, spread over the rounds.
        rounds: interleaved rounds.
        min_seconds: keep timing each case at least this long in total.
        threads: intra-op threads for torch and onnxruntime (default: torch's setting).
            On a shared machine 1 is the stable choice.
        pretrained: weights for a model given by name.
        num_calibration: digits images calibrating the ``int8`` backend.
        workdir: where the ONNX files go (default: a temporary directory, removed).

    Returns:
        a :class:`BenchResult`; ``ratio`` columns compare with ``eager`` at the same
        batch size (``latency_ratio`` < 1 and ``throughput_ratio`` > 1 mean faster).

    Raises:
        BenchError: an unknown backend or a batch size below 1.
    """
    import onnxruntime

    _check_arguments(backends, batch_sizes)
    if threads:
        torch.set_num_threads(int(threads))
    threads = torch.get_num_threads()
    module = resolve_model(model, pretrained=pretrained).eval()
    size = resolve_input_size(module, input_size)
    name = str(model_config(module).architecture or type(module).__name__)
    result = BenchResult(name, size, threads, warmup, repeats, versions={
        "torch": torch.__version__, "onnxruntime": onnxruntime.__version__})
    inputs = {int(b): torch.randn(int(b), *size, generator=torch.Generator().manual_seed(0))
              for b in batch_sizes}
    with _folder(workdir) as folder:
        files = _OnnxFiles(module, name, size, folder, num_calibration)
        calls, rows = _build(module, backends, inputs, files, threads)
        times = _time_interleaved(calls, rows, warmup=warmup, repeats=repeats, rounds=rounds,
                                  min_seconds=min_seconds)
        _fill(result, rows, times)
    return result
