"""Evaluation speed: ``cnnzoo.evaluate`` against a bare loop over ``Predictor.logits``.

The digits test split (360 held-out images) and ``--model`` (default: LeNet-5 with its
embedded weights), eager PyTorch or its ONNX export (``--backend onnx``). For each
``--repeat K`` (default ``1 10``: 360 and 3,600 images; ``K > 1`` evaluates the split K
times over, as a pair of arrays ``(x, y)``), in one process, after two unrecorded runs
of each, ``--runs`` (default 15) rounds each time both cases, the order alternating
from round to round so drift in machine load hits both alike:

* ``loop``: ``predictor.logits(batch)`` over the batches of ``--batch`` images (default
  64) of the very arrays ``evaluate`` reads, through a ``Predictor`` of the same model
  built as ``evaluate`` builds its own, the predictor built and the batches sliced
  outside the timing — the bare inference cost;
* ``evaluate``: ``cnnzoo.evaluate(model, data, batch_size=…, progress=False)`` — the
  whole call: the predictor, the data, the pass and every metric (top-1/top-5,
  per-class P/R/F1, confusion matrix, ECE/NLL/Brier, the most confident mistakes).

Ratio: ``evaluate throughput / loop throughput`` from the medians (goal ≥ 0.9: the
bookkeeping costs under 10 %); ``paired_ratio`` is the median of the per-round ratios,
steadier on a loaded machine, and ``cpu_ratio`` the same from the medians of the
process's CPU time (``time.process_time``), which other jobs on the machine hardly
move — on a shared, loaded machine the figure to trust (wall times there swing by
±30 % from run to run). ``bookkeeping_ms`` is the difference of the wall medians. The
script checks that both cases predict alike (the loop's confusion matrix equals the
report's: ``same_predictions``).

Usage::

    python bench/evaluate_speed.py [--model lenet5] [--backend eager|onnx] [--runs 15]
                                   [--batch 64] [--repeat 1 10] [--threads N] [--json]
                                   [--out bench/results/evaluate_speed.json]

``--out`` writes the JSON (with the date, the machine and its load average before and
after) to a file, atomically. On a machine shared with other jobs, ``--threads 1``
gives steadier numbers.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

GOAL = 0.9


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of one call (the CPU time of this process, all its threads)."""
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - start, time.process_time() - cpu


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import torch

    import cnnzoo

    return {"cpu": _cpu_model(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "python": platform.python_version(), "torch": torch.__version__,
            "cnnzoo": cnnzoo.__version__}


def measure(model_name: str, backend: str, batch: int, runs: int,
            threads: int | None, repeat: int = 1) -> dict[str, object]:
    import numpy as np
    import torch

    import cnnzoo
    from cnnzoo.deploy.evaluation import _digits_test
    from cnnzoo.deploy.export import to_onnx
    from cnnzoo.deploy.predict import Predictor

    if threads:
        torch.set_num_threads(threads)
    model = cnnzoo.create(model_name, pretrained=True).eval()
    with tempfile.TemporaryDirectory(prefix="cnnzoo-evaluate-speed-") as tmp:
        source: object = model
        if backend == "onnx":
            source = Path(tmp) / f"{model_name}.onnx"
            to_onnx(model, source)
        predictor = Predictor(source)  # type: ignore[arg-type]  # as evaluate builds it
        x, y = _digits_test(predictor.cfg, masks=False)  # the arrays evaluate reads
        data: object = "digits"
        if repeat > 1:
            x, y = np.concatenate([x] * repeat), np.concatenate([y] * repeat)
            data = (x, y)
        batches = [x[i:i + batch] for i in range(0, len(x), batch)]

        def loop() -> list[Any]:
            return [predictor.logits(b) for b in batches]

        def zoo() -> Any:
            return cnnzoo.evaluate(source, data, batch_size=batch,  # type: ignore[arg-type]
                                   progress=False)

        report = zoo()  # warm-up (and the accuracy, for the record)
        loop_pred = np.concatenate(loop()).argmax(axis=1)
        classes = len(report.labels)
        loop_confusion = np.bincount(y * classes + loop_pred, minlength=classes * classes)
        same = bool(np.array_equal(loop_confusion.reshape(classes, classes),
                                   report.classification.confusion))
        zoo(), loop()
        times: dict[str, list[float]] = {"loop": [], "evaluate": []}
        cpu: dict[str, list[float]] = {"loop": [], "evaluate": []}
        for r in range(runs):
            order = [("loop", loop), ("evaluate", zoo)]
            for name, fn in order if r % 2 == 0 else reversed(order):
                wall, used = timed(fn)
                times[name].append(wall)
                cpu[name].append(used)
    n = len(x)
    medians = {k: statistics.median(v) for k, v in times.items()}
    throughput = {k: n / v for k, v in medians.items()}
    ratio = throughput["evaluate"] / throughput["loop"]
    paired = statistics.median(a / b for a, b in zip(times["loop"], times["evaluate"],
                                                      strict=True))
    cpu_medians = {k: statistics.median(v) for k, v in cpu.items()}
    cpu_ratio = cpu_medians["loop"] / cpu_medians["evaluate"]
    return {
        "model": model_name, "backend": backend, "images": n, "repeat": repeat,
        "batch": batch, "runs": runs,
        "threads": torch.get_num_threads(), "accuracy": report.accuracy,
        "same_predictions": same,
        "median_ms": {k: v * 1e3 for k, v in medians.items()},
        "bookkeeping_ms": (medians["evaluate"] - medians["loop"]) * 1e3,
        "throughput": throughput, "samples_ms": {k: [t * 1e3 for t in v]
                                                 for k, v in times.items()},
        "cpu_median_ms": {k: v * 1e3 for k, v in cpu_medians.items()},
        "cpu_samples_ms": {k: [t * 1e3 for t in v] for k, v in cpu.items()},
        "ratio": ratio, "paired_ratio": paired, "cpu_ratio": cpu_ratio, "goal": GOAL,
        "meets_goal": ratio >= GOAL,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--backend", choices=("eager", "onnx"), default="eager")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, nargs="+", default=[1, 10],
                        help="evaluate the test split K times over (K x 360 images); "
                             "several values: one measurement each")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--out", type=Path, default=None,
                        help="write the JSON here (e.g. bench/results/evaluate_speed.json)")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    results = [measure(args.model, args.backend, args.batch, args.runs, args.threads, k)
               for k in args.repeat]
    record = {
        "benchmark": "evaluate_speed", "goal": GOAL,
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine(), "load_before": list(load_before),
        "load_after": list(os.getloadavg()), "results": results,
    }
    text = json.dumps(record, indent=2) + "\n"
    if args.out is not None:
        from cnnzoo._utils import atomic_write_text

        atomic_write_text(args.out, text)
    if args.json:
        print(text, end="")
        return 0
    for result in results:
        ms, tp = result["median_ms"], result["throughput"]
        print(f"{result['model']} ({result['backend']}), digits test split "
              f"x{result['repeat']}: {result['images']} images, batch {result['batch']}, "
              f"{result['threads']} thread(s), {result['runs']} runs, accuracy "
              f"{result['accuracy']:.2%}")
        print(f"{'case':<10}{'median ms':>12}{'images/s':>12}")
        for name in ("loop", "evaluate"):
            print(f"{name:<10}{ms[name]:>12.2f}{tp[name]:>12,.0f}")  # type: ignore[index]
        print(f"evaluate / loop throughput: {result['ratio']:.3f} (paired "
              f"{result['paired_ratio']:.3f}, CPU time {result['cpu_ratio']:.3f}; goal ≥ "
              f"{GOAL}); bookkeeping {result['bookkeeping_ms']:.2f} ms\n")
    print(f"load average {load_before[0]:.2f} before, {record['load_after'][0]:.2f} after")
    return 0


if __name__ == "__main__":
    sys.exit(main())
