"""Evaluation speed: ``cnnzoo.evaluate`` against a bare loop over ``Predictor.logits``.

The digits test split (360 held-out images) and ``--model`` (default: LeNet-5 with its
embedded weights), eager PyTorch or its ONNX export (``--backend onnx``). In one process,
after one unrecorded run of each, ``--runs`` (default 7) rounds each time both cases in
alternating order, so drift in machine load hits both alike, and reports the medians:

* ``loop``: ``predictor.logits(batch)`` over the same batches of ``--batch`` images
  (default 64), the predictor built and the batches preprocessed outside the timing —
  the bare inference cost;
* ``evaluate``: ``cnnzoo.evaluate(model, "digits", batch_size=…, progress=False)`` — the
  whole call: the predictor, the data, the pass and every metric (top-1/top-5,
  per-class P/R/F1, confusion matrix, ECE/NLL/Brier, the most confident mistakes).

Ratio: ``evaluate throughput / loop throughput`` (goal ≥ 0.9), images per second of the
whole call against those of the bare loop. The metrics cost a fixed few tens of
milliseconds (scikit-learn's argument checks), a large share of LeNet-5's ~0.1 s on 360
images; ``--repeat K`` evaluates the split K times over (as a pair of tensors
``(x, y)``, ``K x 360`` images) to show how that share shrinks with the data.

Usage::

    python bench/evaluate_speed.py [--model lenet5] [--backend eager|onnx] [--runs 7]
                                   [--batch 64] [--repeat K] [--threads N] [--json]

On a machine shared with other jobs, ``--threads 1`` gives steadier numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

GOAL = 0.9


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(model_name: str, backend: str, batch: int, runs: int,
            threads: int | None, repeat: int = 1) -> dict[str, object]:
    import numpy as np
    import torch

    import cnnzoo
    from cnnzoo.data.images import digits_split
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
        predictor = Predictor(source)  # type: ignore[arg-type]
        x, y = digits_split(predictor.cfg, "test")
        data: object = "digits"
        if repeat > 1:
            x, y = np.concatenate([x] * repeat), np.concatenate([y] * repeat)
            data = (x, y)
        batches = [x[i:i + batch] for i in range(0, len(x), batch)]

        def loop() -> object:
            return [predictor.logits(b) for b in batches]

        def zoo() -> object:
            return cnnzoo.evaluate(source, data, batch_size=batch,  # type: ignore[arg-type]
                                   progress=False)

        report = zoo()  # warm-up (and the accuracy, for the record)
        loop()
        times: dict[str, list[float]] = {"loop": [], "evaluate": []}
        for r in range(runs):
            order = [("loop", loop), ("evaluate", zoo)]
            for name, fn in order if r % 2 == 0 else reversed(order):
                times[name].append(timed(fn))
    n = len(x)
    medians = {k: statistics.median(v) for k, v in times.items()}
    throughput = {k: n / v for k, v in medians.items()}
    ratio = throughput["evaluate"] / throughput["loop"]
    return {
        "model": model_name, "backend": backend, "images": n, "repeat": repeat,
        "batch": batch, "runs": runs,
        "threads": torch.get_num_threads(), "accuracy": report.accuracy,  # type: ignore[attr-defined]
        "median_ms": {k: v * 1e3 for k, v in medians.items()},
        "throughput": throughput, "samples_ms": {k: [t * 1e3 for t in v]
                                                 for k, v in times.items()},
        "ratio": ratio, "goal": GOAL, "meets_goal": ratio >= GOAL,
        "versions": {"python": platform.python_version(), "torch": torch.__version__,
                     "cnnzoo": cnnzoo.__version__},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="lenet5")
    parser.add_argument("--backend", choices=("eager", "onnx"), default="eager")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=1,
                        help="evaluate the test split K times over (K x 360 images)")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.model, args.backend, args.batch, args.runs, args.threads,
                     args.repeat)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    ms, tp = result["median_ms"], result["throughput"]
    print(f"{result['model']} ({result['backend']}), digits test split x{result['repeat']}: "
          f"{result['images']} "
          f"images, batch {result['batch']}, {result['threads']} thread(s), "
          f"{result['runs']} runs, accuracy {result['accuracy']:.2%}")
    print(f"{'case':<10}{'median ms':>12}{'images/s':>12}")
    for name in ("loop", "evaluate"):
        print(f"{name:<10}{ms[name]:>12.2f}{tp[name]:>12,.0f}")  # type: ignore[index]
    print(f"evaluate / loop throughput: {result['ratio']:.3f} (goal ≥ {GOAL})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
