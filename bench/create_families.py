"""``create()`` of every new family against the library that implements it.

For one representative per family added with the zoo issue, in one process, the median of
``--runs`` interleaved builds (random initialisation, no weights):

* timm-backed families: ``cnnzoo.create(name)`` ÷ ``timm.create_model(arch)`` — the same
  network, so the ratio is cnnzoo's overhead (registry, argument checks, the config);
* native families (SqueezeNet, ShuffleNetV2 — torchvision's layout):
  ``cnnzoo.create(name)`` ÷ ``torchvision.models.get_model(name)``.

Goal (issue #10): ≤ 1.05 for every family.

Usage::

    python bench/create_families.py [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# cnnzoo name -> ("timm" | "torchvision", the reference library's name)
FAMILIES = {
    "densenet121": ("timm", "densenet121"),
    "inception_v3": ("timm", "inception_v3"),
    "wide_resnet50_2": ("timm", "wide_resnet50_2"),
    "resnext101_64x4d": ("timm", "resnext101_64x4d"),
    "regnet_x_400mf": ("timm", None),
    "regnet_y_400mf": ("timm", None),
    "efficientnet_v2_s": ("timm", None),
    "mnasnet1_0": ("timm", None),
    "efficientnet_lite0": ("timm", "efficientnet_lite0"),
    "convnextv2_tiny": ("timm", "convnextv2_tiny"),
    "mobilenetv4_conv_medium": ("timm", "mobilenetv4_conv_medium"),
    "squeezenet1_1": ("torchvision", "squeezenet1_1"),
    "shufflenet_v2_x1_0": ("torchvision", "shufflenet_v2_x1_0"),
}


def _once(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1e3


def _reference(name: str, library: str, arch: str | None) -> Callable[[], object]:
    import cnnzoo

    if library == "torchvision":
        import torchvision

        return lambda: torchvision.models.get_model(arch or name)
    import timm

    spec = cnnzoo.model_info(name)
    timm_arch = arch or str(spec.builder_args.get("arch", spec.name))
    options = {k: v for k, v in spec.builder_args.items() if k != "arch"}
    return lambda: timm.create_model(timm_arch, pretrained=False, **options)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    import cnnzoo

    torch.set_num_threads(args.threads)
    rows = []
    for name, (library, arch) in FAMILIES.items():
        if not cnnzoo.is_model(name):
            continue
        canonical = cnnzoo.model_info(name).name
        reference = _reference(canonical, library, arch)

        def ours(n: str = canonical) -> object:
            return cnnzoo.create(n)

        ours(), reference()  # warm-up
        mine, theirs = [], []
        for _ in range(args.runs):
            mine.append(_once(ours))
            theirs.append(_once(reference))
        row = {"model": canonical, "reference": library, "cnnzoo_ms": statistics.median(mine),
               "reference_ms": statistics.median(theirs)}
        row["ratio"] = row["cnnzoo_ms"] / row["reference_ms"]
        row["meets_goal"] = row["ratio"] <= 1.05
        rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'model':26s} {'reference':12s} {'cnnzoo ms':>10s} {'ref ms':>9s} {'ratio':>6s}")
    for r in rows:
        print(f"{r['model']:26s} {r['reference']:12s} {r['cnnzoo_ms']:10.1f} "
              f"{r['reference_ms']:9.1f} {r['ratio']:6.2f}")


if __name__ == "__main__":
    main()
