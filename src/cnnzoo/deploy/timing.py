"""How cnnzoo times models: one implementation for ``cnnzoo bench`` and the quantization report.

:func:`measure` times any callable (warm-up, then repeats, optionally for a minimum
time); :func:`ort_latency` is the median of an onnxruntime session on a random input
and :func:`ort_latencies` the same for a model file at several batch sizes.

Example:
    >>> from cnnzoo.deploy.timing import measure
    >>> times = measure(lambda: sum(range(100)), warmup=1, repeats=5)
    >>> len(times), all(t >= 0 for t in times)
    (5, True)
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cnnzoo.deploy.runtime import ort_session

if TYPE_CHECKING:
    import onnxruntime

__all__ = ["measure", "ort_latencies", "ort_latency"]

_MAX_SAMPLES = 10_000


def measure(fn: Callable[[], Any], *, warmup: int = 3, repeats: int = 10,
            min_seconds: float = 0.0) -> list[float]:
    """Seconds per call of ``fn``: ``warmup`` unrecorded calls, then ``repeats`` timed ones.

    With ``min_seconds`` the timed calls go on (beyond ``repeats``) until that much
    time has been spent, so fast models get enough samples for a stable median.

    Args:
        fn: the call to time.
        warmup: unrecorded calls first.
        repeats: timed calls (at least one).
        min_seconds: keep timing until this much time has been spent.

    Returns:
        the seconds of each timed call (at most 10,000).
    """
    for _ in range(max(0, warmup)):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < max(1, repeats) or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) >= _MAX_SAMPLES:
            break
    return times


def ort_latency(session: onnxruntime.InferenceSession, shape: Sequence[int], *,
                warmup: int = 3, repeats: int = 10, min_seconds: float = 0.0) -> float:
    """Median seconds of one onnxruntime run on a random input of ``shape``."""
    name = session.get_inputs()[0].name
    x = np.random.default_rng(0).standard_normal(tuple(shape)).astype(np.float32)
    return statistics.median(measure(lambda: session.run(None, {name: x}), warmup=warmup,
                                     repeats=repeats, min_seconds=min_seconds))


def ort_latencies(path: str | os.PathLike[str], input_size: Sequence[int],
                  batch_sizes: Sequence[int], repeats: int, *, warmup: int = 2,
                  threads: int | None = None) -> dict[int, float]:
    """Median seconds per run of the ONNX model at ``path``, for each batch size.

    A model exported with a fixed batch size is timed at that size only. No batch
    sizes (or ``repeats <= 0``) give ``{}``.

    Args:
        path: the ``.onnx`` file.
        input_size: ``(C, H, W)`` of one sample.
        batch_sizes: the batch sizes to time.
        repeats: timed runs per batch size.
        warmup: unrecorded runs per batch size.
        threads: intra-op threads (default: torch's).

    Returns:
        ``{batch size: median seconds}``.
    """
    if not batch_sizes or repeats <= 0:
        return {}
    session = ort_session(path, threads)
    fixed = session.get_inputs()[0].shape[0]
    batches = [fixed] if isinstance(fixed, int) else [int(b) for b in batch_sizes]
    return {b: ort_latency(session, (b, *input_size), warmup=warmup, repeats=repeats)
            for b in batches}
