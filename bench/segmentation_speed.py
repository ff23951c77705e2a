"""Segmentation forward speed: cnnzoo's smp-compatible decoders against smp itself.

DeepLabV3+, FPN and Unet on a ResNet-34 encoder, 256×256, batch 1, eager, one
intra-op thread, ``torch.inference_mode``. Each pair — cnnzoo's model
(``cnnzoo.create(name, encoder="resnet34", num_classes=1)``, smp's defaults) and
smp's (``encoder_weights=None``) with the same weights loaded through the ``smp``
checkpoint converter — is checked to give the same output, warmed up, then timed
in one process with the two forwards interleaved (the order alternating every run)
so that drift in machine load hits both alike. The figure is the ratio of the
medians, cnnzoo ÷ smp; the goal is ≤ 1.05.

Usage::

    python bench/segmentation_speed.py [--runs 30] [--size 256] [--json] [--out FILE]

Numbers depend on the machine and its load; compare ratios, not milliseconds.
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
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing may be downloaded

# (cnnzoo name, smp class)
PAIRS = (("deeplabv3plus", "DeepLabV3Plus"), ("fpn", "FPN"), ("smp_unet", "Unet"))
GOAL = 1.05


def build_pair(name: str, smp_class: str, encoder: str, tmp: Path) -> tuple[Any, Any]:
    """smp's model and cnnzoo's, with smp's weights loaded into cnnzoo's."""
    import segmentation_models_pytorch as smp
    import torch

    import cnnzoo

    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = getattr(smp, smp_class)(encoder, encoder_weights=None).eval()
    path = tmp / f"{name}.pth"
    torch.save(reference.state_dict(), path)
    ours = cnnzoo.create(name, encoder=encoder, num_classes=1, checkpoint_path=path).eval()
    return ours, reference


def timed_ms(model: Any, x: Any) -> float:
    start = time.perf_counter()
    model(x)
    return (time.perf_counter() - start) * 1e3


def measure(runs: int, size: int, encoder: str, warmup: int) -> dict[str, Any]:
    import segmentation_models_pytorch as smp
    import torch

    import cnnzoo

    torch.set_num_threads(1)
    x = torch.randn(1, 3, size, size)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cnnzoo-seg-bench-") as tmp, torch.inference_mode():
        for name, smp_class in PAIRS:
            ours, reference = build_pair(name, smp_class, encoder, Path(tmp))
            diff = float((ours(x) - reference(x)).abs().max())
            for _ in range(warmup):
                ours(x)
                reference(x)
            zoo, ref = [], []
            for i in range(runs):
                if i % 2 == 0:
                    zoo.append(timed_ms(ours, x))
                    ref.append(timed_ms(reference, x))
                else:
                    ref.append(timed_ms(reference, x))
                    zoo.append(timed_ms(ours, x))
            zoo_ms, ref_ms = statistics.median(zoo), statistics.median(ref)
            results[name] = {
                "smp_class": smp_class,
                "cnnzoo_ms": round(zoo_ms, 2),
                "smp_ms": round(ref_ms, 2),
                "ratio_cnnzoo_over_smp": round(zoo_ms / ref_ms, 4),
                "meets_goal": zoo_ms / ref_ms <= GOAL,
                "max_abs_diff": diff,
                "cnnzoo_runs_ms": [round(t, 2) for t in zoo],
                "smp_runs_ms": [round(t, 2) for t in ref],
            }
            del ours, reference
    return {
        "encoder": encoder, "input": [1, 3, size, size], "runs": runs, "warmup": warmup,
        "threads": 1, "goal_ratio": GOAL,
        "meets_goal": all(r["meets_goal"] for r in results.values()),
        "results": results,
        "cnnzoo": cnnzoo.__version__, "smp": smp.__version__, "torch": torch.__version__,
        "python": sys.version.split()[0], "platform": platform.platform(),
    }


def report(res: dict[str, Any]) -> str:
    lines = [
        f"forward of 1×3×{res['input'][2]}×{res['input'][3]}, {res['encoder']} encoder, eager, "
        f"1 thread, median of {res['runs']} interleaved runs (torch {res['torch']}, smp "
        f"{res['smp']})", "",
        f"{'model':14} {'cnnzoo':>10} {'smp':>10} {'cnnzoo/smp':>11}  goal ≤ {GOAL}",
    ]
    for name, r in res["results"].items():
        lines.append(f"{name:14} {r['cnnzoo_ms']:8.1f}ms {r['smp_ms']:8.1f}ms "
                     f"{r['ratio_cnnzoo_over_smp']:11.3f}  {'yes' if r['meets_goal'] else 'NO'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed forwards per model")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--encoder", default="resnet34")
    parser.add_argument("--json", action="store_true", help="print a JSON result")
    parser.add_argument("--out", type=Path, help="also write the JSON result here")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    res = measure(args.runs, args.size, args.encoder, args.warmup)
    print(json.dumps(res, indent=2) if args.json else report(res))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(res, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
