"""Deployment speed: ResNet-50 on eager PyTorch vs onnxruntime FP32 vs onnxruntime INT8.

Reproduces the figures of issue 5 (ResNet-50, batch 1, CPU, ratios to eager PyTorch
measured in the same run):

* ONNX FP32 (onnxruntime) ≤ 0.55x eager;
* INT8 static (onnxruntime, QDQ, per-channel weights) ≤ 0.20x eager.

The model is exported with :func:`cnnzoo.export.to_onnx` (verified against eager) and
quantized with :func:`cnnzoo.quantize` (static QDQ, MinMax calibration on 32 real
digits images, per-channel weights). Random weights: speed does not depend on them,
and no pretrained ResNet-50 can be downloaded offline.

The backends are timed **interleaved**: ``--rounds`` rounds, each running every
backend ``--repeats`` times after one warm-up call; the reported figure is the
median over all timed calls. Interleaving makes the ratios robust to the load of a
shared machine drifting during the run. Every backend uses ``--threads`` intra-op
threads (default: all of torch's).

Usage::

    python bench/deploy_speed.py [--model resnet50] [--batch 1] [--rounds 5]
                                 [--repeats 10] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

GOALS = {"onnx": 0.55, "int8": 0.20}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--num-calibration", type=int, default=32)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    import onnxruntime
    import torch

    import cnnzoo
    from cnnzoo.deploy.export import to_onnx
    from cnnzoo.deploy.quantization import cpu_has_vnni, quantize
    from cnnzoo.deploy.runtime import file_size, ort_session

    if args.threads:
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()
    torch.manual_seed(0)
    model = cnnzoo.create(args.model).eval()
    size = tuple(model.pretrained_cfg["input_size"])
    x = torch.randn(args.batch, *size)

    with tempfile.TemporaryDirectory(prefix="cnnzoo-deploy-speed-") as tmp:
        setup = {}
        t0 = time.perf_counter()
        export = to_onnx(model, Path(tmp) / f"{args.model}.onnx")
        setup["onnx"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        quant = quantize(export.path, method="int8-static", calibration="digits",
                         num_calibration=args.num_calibration, per_channel=True,
                         output=Path(tmp) / f"{args.model}.int8.onnx", latency_batch_sizes=())
        setup["int8"] = time.perf_counter() - t0
        sessions = {"onnx": ort_session(export.path, threads),
                    "int8": ort_session(quant.path, threads)}
        sizes = {"eager": sum(t.numel() * t.element_size() for t in model.state_dict().values()),
                 "onnx": file_size(export.path), "int8": file_size(quant.path)}
        feed = x.numpy()

        def eager() -> None:
            with torch.inference_mode():
                model(x)

        runners = {
            "eager": eager,
            "onnx": lambda: sessions["onnx"].run(None, {"input": feed}),
            "int8": lambda: sessions["int8"].run(None, {"input": feed}),
        }
        times: dict[str, list[float]] = {name: [] for name in runners}
        for _ in range(args.rounds):
            for name, fn in runners.items():
                fn()  # warm-up of this round
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    fn()
                    times[name].append(time.perf_counter() - start)

    medians = {name: statistics.median(values) for name, values in times.items()}
    result = {
        "model": args.model, "batch": args.batch, "input_size": list(size),
        "threads": threads, "rounds": args.rounds, "repeats": args.repeats,
        "cpu": platform.processor() or platform.machine(), "vnni": cpu_has_vnni(),
        "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
        "export_max_abs_diff": export.max_abs_diff,
        "int8": {"per_channel": quant.report.per_channel,
                 "calibration": f"{quant.report.calibrate_method} on "
                                f"{quant.report.calibration_samples} digits images"},
        "median_ms": {k: v * 1e3 for k, v in medians.items()},
        "ratio_to_eager": {k: v / medians["eager"] for k, v in medians.items()},
        "size_mb": {k: v / 1e6 for k, v in sizes.items()},
        "setup_s": setup,
        "goals": GOALS,
    }
    result["meets_goals"] = {k: result["ratio_to_eager"][k] <= g for k, g in GOALS.items()}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    from cnnzoo._utils import text_table

    rows = [(name, f"{result['median_ms'][name]:.2f}", f"{result['ratio_to_eager'][name]:.3f}x",
             f"{args.batch / medians[name]:.1f}", f"{result['size_mb'][name]:.1f}",
             f"<= {GOALS[name]}x: {'yes' if result['meets_goals'][name] else 'NO'}"
             if name in GOALS else "-")
            for name in runners]
    print(f"{args.model} batch {args.batch}, {threads} thread(s), VNNI: {result['vnni']}, "
          f"torch {torch.__version__}, onnxruntime {onnxruntime.__version__}; median of "
          f"{args.rounds} x {args.repeats} interleaved runs\n")
    print(text_table(("backend", "median ms", "vs eager", "images/s", "size MB", "goal"),
                     rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
