"""Grad-CAM speed: cnnzoo.explain() against pytorch-grad-cam and a plain forward pass.

ResNet-50 (random weights, eval mode), a batch of 8 images at 224×224, CPU. In one
process, after one unrecorded run of each, ``--runs`` (default 5) rounds each time
the three cases in a rotating order so that drift in machine load hits all alike,
and reports the medians:

* ``forward``: ``model(x)`` under ``torch.no_grad()`` — what a prediction costs;
* ``cnnzoo``: ``cnnzoo.explain(model, x, method="gradcam")`` — predicted classes,
  maps at 224×224;
* ``pytorch-grad-cam``: ``GradCAM(model, [model.layer4])(x, targets=None)`` (the
  object built once, outside the timing) — the same maps (checked: max abs diff).

Ratios: ``cnnzoo throughput / pytorch-grad-cam throughput`` (goal ≥ 3) and
``cnnzoo time / forward time`` (goal ≤ 1.3).

Usage::

    python bench/explain_speed.py [--runs 5] [--batch 8] [--size 224] [--threads N] [--json]

On a machine shared with other jobs, ``--threads 1`` gives steadier numbers: OpenMP
threads that wait for a busy core slow every case erratically.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
import warnings
from collections.abc import Callable


def timed_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    result = fn()
    elapsed = (time.perf_counter() - start) * 1e3
    del result
    return elapsed


def measure(model_name: str, batch: int, size: int, runs: int,
            threads: int | None = None) -> dict[str, object]:
    import numpy as np
    import torch
    from pytorch_grad_cam import GradCAM

    import cnnzoo

    if threads:
        torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = cnnzoo.create(model_name).eval()
    x = torch.randn(batch, 3, size, size)
    layer_name = cnnzoo.model_info(model_name).cam_layer
    layer = model.get_submodule(layer_name)

    def forward() -> object:
        with torch.no_grad():
            return model(x)

    def zoo() -> object:
        return cnnzoo.explain(model, x, method="gradcam")

    reference = GradCAM(model, [layer])

    def ref() -> object:
        out = reference(x, targets=None)
        model.zero_grad(set_to_none=True)  # it accumulates parameter grads; not timed apart
        return out

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = zoo().to_numpy()  # warm-up and the agreement check
        theirs = ref()
        forward()
    max_abs_diff = float(np.abs(ours - theirs).max())

    cases = {"forward": forward, "cnnzoo": zoo, "pytorch-grad-cam": ref}
    names = list(cases)
    times: dict[str, list[float]] = {n: [] for n in names}
    for i in range(runs):
        order = names[i % len(names):] + names[:i % len(names)]
        for name in order:
            times[name].append(timed_ms(cases[name]))
    reference.activations_and_grads.release()
    med = {n: statistics.median(t) for n, t in times.items()}
    speedup = med["pytorch-grad-cam"] / med["cnnzoo"]  # throughput ratio
    over_forward = med["cnnzoo"] / med["forward"]
    return {
        "model": model_name,
        "layer": layer_name,
        "batch": batch,
        "size": size,
        "runs": runs,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "cnnzoo": cnnzoo.__version__,
        "platform": platform.platform(),
        "torch_threads": torch.get_num_threads(),
        "median_ms": med,
        "runs_ms": times,
        "images_per_s": {n: batch / (m / 1e3) for n, m in med.items()},
        "max_abs_diff_vs_pytorch_grad_cam": max_abs_diff,
        "ratios": {
            "cnnzoo_throughput_over_pytorch_grad_cam": speedup,
            "cnnzoo_time_over_forward": over_forward,
        },
        "meets_goal": {
            "throughput_ge_3x": speedup >= 3.0,
            "time_le_1.3x_forward": over_forward <= 1.3,
        },
    }


def report(res: dict[str, object]) -> str:
    med: dict[str, float] = res["median_ms"]  # type: ignore[assignment]
    ips: dict[str, float] = res["images_per_s"]  # type: ignore[assignment]
    ratios: dict[str, float] = res["ratios"]  # type: ignore[assignment]
    goals: dict[str, bool] = res["meets_goal"]  # type: ignore[assignment]
    lines = [
        f"Grad-CAM on {res['model']} ({res['layer']}), batch {res['batch']} at "
        f"{res['size']}×{res['size']}, median of {res['runs']} runs "
        f"(torch {res['torch']}, {res['torch_threads']} threads)",
        "",
        f"{'case':18} {'time':>10} {'images/s':>10}",
    ]
    for name, ms in med.items():
        lines.append(f"{name:18} {ms:8.1f}ms {ips[name]:10.1f}")
    lines += [
        "",
        f"cnnzoo throughput / pytorch-grad-cam throughput: "
        f"{ratios['cnnzoo_throughput_over_pytorch_grad_cam']:.2f}x  (goal >= 3: "
        f"{'yes' if goals['throughput_ge_3x'] else 'no'})",
        f"cnnzoo time / plain forward time:                "
        f"{ratios['cnnzoo_time_over_forward']:.2f}x  (goal <= 1.3: "
        f"{'yes' if goals['time_le_1.3x_forward'] else 'no'})",
        f"max abs diff of the maps vs pytorch-grad-cam:    "
        f"{res['max_abs_diff_vs_pytorch_grad_cam']:.2e}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed rounds (default 5)")
    parser.add_argument("--model", default="resnet50", help="a zoo classifier (default resnet50)")
    parser.add_argument("--batch", type=int, default=8, help="batch size (default 8)")
    parser.add_argument("--size", type=int, default=224, help="input side (default 224)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch intra-op threads (default: torch's choice)")
    parser.add_argument("--json", action="store_true", help="print a JSON result")
    args = parser.parse_args(argv)
    if args.runs < 1 or args.batch < 1 or args.size < 32 or (args.threads or 1) < 1:
        parser.error("--runs, --batch and --threads must be at least 1, --size at least 32")
    res = measure(args.model, args.batch, args.size, args.runs, args.threads)
    print(json.dumps(res, indent=2) if args.json else report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
