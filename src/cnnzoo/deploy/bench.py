"""The benchmark runner behind ``cnnzoo bench`` and ``bench/deploy_speed.py``.

:func:`run` times one model on several backends — eager PyTorch, eager with
``channels_last``, ``torch.compile``, onnxruntime FP32 and onnxruntime INT8 (static,
QDQ, per-channel) — at several batch sizes, after warm-up, and reports the median
latency, the throughput and the model size, each with its ratio to eager PyTorch
measured in the same run. A backend that cannot be built (``torch.compile`` without
a working C++ toolchain, an export failure…) is reported in the table, not raised.

Every backend runs with the same number of threads (``threads``, default: torch's).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cnnzoo.errors import BenchError

__all__ = ["BACKENDS", "BenchResult", "BenchRow", "measure", "ort_session", "run"]

BACKENDS: tuple[str, ...] = ("eager", "channels_last", "compile", "onnx", "int8")


def measure(fn: Callable[[], Any], *, warmup: int = 3, repeats: int = 10,
            min_seconds: float = 0.0) -> list[float]:
    """Seconds per call of ``fn``: ``warmup`` unrecorded calls, then ``repeats`` timed ones.

    With ``min_seconds`` the timed calls go on (beyond ``repeats``) until that much
    time has been spent, so fast models get enough samples for a stable median.
    """
    for _ in range(max(0, warmup)):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max(1, repeats) or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= 10_000:
            break
    return times


def ort_session(path: str | os.PathLike[str], threads: int | None = None):
    """An onnxruntime CPU session with ``threads`` intra-op threads (default: torch's)."""
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.intra_op_num_threads = int(threads or torch.get_num_threads())
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def ort_latency(session, shape: Sequence[int], *, warmup: int = 3, repeats: int = 10,
                min_seconds: float = 0.0) -> float:
    """Median seconds of one onnxruntime run on a random input of ``shape``."""
    name = session.get_inputs()[0].name
    x = np.random.default_rng(0).standard_normal(tuple(shape)).astype(np.float32)
    return statistics.median(measure(lambda: session.run(None, {name: x}), warmup=warmup,
                                     repeats=repeats, min_seconds=min_seconds))


def file_size(path: str | os.PathLike[str]) -> int:
    """Bytes of a model file plus its external ``.data`` file, if any."""
    path = Path(path)
    data = path.with_name(path.name + ".data")
    return path.stat().st_size + (data.stat().st_size if data.exists() else 0)


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
        for r in self.rows:
            if r.backend == backend and r.batch == batch:
                return r
        raise KeyError((backend, batch))

    def table(self) -> str:
        from cnnzoo.cli import render_table

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
        text = head + "\n\n" + render_table(
            ("backend", "batch", "median ms", "vs eager", "images/s", "vs eager", "size MB",
             "vs eager", "status"), rows)
        if self.notes:
            text += "\n\n" + "\n".join(f"note: {n}" for n in self.notes)
        return text

    __str__ = table

    def to_dict(self) -> dict[str, Any]:
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


def run(
    model: Any,
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
    """
    import torch

    from cnnzoo.deploy.export import _input_size, model_cfg, resolve_model, to_onnx

    unknown = [b for b in backends if b not in BACKENDS]
    if unknown:
        raise BenchError(f"unknown backend(s) {', '.join(unknown)}; choose from "
                         f"{', '.join(BACKENDS)}")
    if not batch_sizes or any(int(b) < 1 for b in batch_sizes):
        raise BenchError(f"batch sizes must be positive integers, got {list(batch_sizes)}")
    if threads:
        torch.set_num_threads(int(threads))
    threads = torch.get_num_threads()
    module = resolve_model(model, pretrained=pretrained).eval()
    cfg = model_cfg(module)
    size = _input_size(module, cfg, input_size)
    name = str(cfg.get("architecture") or type(module).__name__)
    import onnxruntime

    result = BenchResult(name, size, threads, warmup, repeats, versions={
        "torch": torch.__version__, "onnxruntime": onnxruntime.__version__})
    eager_size = sum(t.numel() * t.element_size()
                     for t in (*module.parameters(), *module.buffers()))
    batch_sizes = [int(b) for b in batch_sizes]
    inputs = {b: torch.randn(b, *size, generator=torch.Generator().manual_seed(0))
              for b in batch_sizes}

    tmp_ctx = tempfile.TemporaryDirectory(prefix="cnnzoo-bench-") if workdir is None else None
    folder = Path(tmp_ctx.name if tmp_ctx else workdir)  # type: ignore[arg-type]
    folder.mkdir(parents=True, exist_ok=True)
    try:
        calls: dict[tuple[str, int], Callable[[], Any]] = {}
        rows: dict[tuple[str, int], BenchRow] = {}
        fp32_path: Path | None = None
        fp32_error: str | None = None
        for backend in backends:
            start = time.perf_counter()
            size_bytes: int | None = eager_size
            try:
                if backend in ("eager", "channels_last", "compile"):
                    net = module
                    fmt = torch.contiguous_format
                    if backend == "channels_last":
                        net, fmt = _channels_last_copy(module), torch.channels_last
                    elif backend == "compile":
                        net = torch.compile(module)
                    for b in batch_sizes:
                        x = inputs[b].contiguous(memory_format=fmt)
                        calls[(backend, b)] = _torch_call(net, x)
                else:
                    if fp32_path is None and fp32_error is None:
                        try:
                            fp32_path = folder / f"{name}.onnx"
                            to_onnx(module, fp32_path, input_size=size)
                        except Exception as exc:
                            fp32_error, fp32_path = f"export failed: {_short(exc)}", None
                    if fp32_error:
                        raise RuntimeError(fp32_error)
                    path = fp32_path
                    if backend == "int8":
                        from cnnzoo.deploy.quantization import quantize

                        path = quantize(fp32_path, method="int8-static", calibration="digits",
                                        num_calibration=num_calibration,
                                        output=folder / f"{name}.int8.onnx",
                                        latency_batch_sizes=()).path
                    session = ort_session(path, threads)
                    size_bytes = file_size(path)
                    input_name = session.get_inputs()[0].name
                    for b in batch_sizes:
                        feed = {input_name: inputs[b].numpy()}
                        calls[(backend, b)] = (
                            lambda session=session, feed=feed: session.run(None, feed))
                error = None
            except Exception as exc:
                error = _short(exc)
            setup_s = time.perf_counter() - start
            for b in batch_sizes:
                rows[(backend, b)] = BenchRow(backend, b, size_bytes=None if error else size_bytes,
                                              setup_s=setup_s, error=error)
        times: dict[tuple[str, int], list[float]] = {key: [] for key in calls}
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
        for key, row in rows.items():
            if not row.error and times.get(key):
                row.median_ms = statistics.median(times[key]) * 1e3
                row.throughput = row.batch / (row.median_ms / 1e3)
                row.samples = len(times[key])
            result.rows.append(row)
        _ratios(result)
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()
    return result


def _torch_call(net: Any, x: Any) -> Callable[[], Any]:
    import torch

    def call() -> Any:
        with torch.inference_mode():
            return net(x)

    return call


def _channels_last_copy(module: Any) -> Any:
    import copy

    import torch

    return copy.deepcopy(module).to(memory_format=torch.channels_last)


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
