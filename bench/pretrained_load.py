"""Loading pretrained weights from a local folder: cnnzoo against timm and against raw I/O.

In one process, after warm-up, the median of ``--runs`` (default 5) loads of ResNet-50 from a
cnnzoo Hub folder (``config.json`` + ``model.safetensors``, written to a temporary directory):

* ``cnnzoo``: ``cnnzoo.create("resnet50", pretrained=folder)`` — reads the config, builds on
  the ``meta`` device and assigns the tensors (no random init);
* ``timm + load``: ``timm.create_model("resnet50")`` then ``load_state_dict(load_file(f))`` —
  the usual hand-written way: random init, then overwrite;
* ``read``: reading the file into memory (``Path.read_bytes``) — what "loading 100 MB" costs;
* ``mmap``: ``safetensors.torch.load_file(f)`` alone, which maps the file and copies nothing
  until a tensor is touched (cnnzoo's loader uses it too, so its tensors are lazily paged in).

Goals (issue #3): cnnzoo ÷ (timm + load) ≤ 0.5 and cnnzoo ÷ read ≤ 2.

Usage::

    python bench/pretrained_load.py [--runs 5] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def median_ms(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1e3)
        del result
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--model", default="resnet50")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import timm
    import torch
    from safetensors.torch import load_file

    import cnnzoo
    from cnnzoo.hub import save_pretrained

    torch.set_grad_enabled(False)
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_pretrained(cnnzoo.create(args.model), tmp)
        weights = str(folder / "model.safetensors")

        def ours():
            return cnnzoo.create(args.model, pretrained=folder)

        def timm_and_load():
            model = timm.create_model(args.model)
            model.load_state_dict(load_file(weights))
            return model

        def read():
            return (folder / "model.safetensors").read_bytes()

        def mmap():
            return load_file(weights)

        cases = (("cnnzoo", ours), ("timm_and_load", timm_and_load), ("read", read),
                 ("mmap", mmap))
        for _, fn in cases:  # warm-up: imports, allocator, page cache
            fn()
        results = {name: median_ms(fn, args.runs) for name, fn in cases}
    ratios = {
        "cnnzoo_over_timm_and_load": results["cnnzoo"] / results["timm_and_load"],
        "cnnzoo_over_read": results["cnnzoo"] / results["read"],
        "cnnzoo_over_mmap": results["cnnzoo"] / results["mmap"],
    }
    if args.json:
        print(json.dumps({"model": args.model, "runs": args.runs, "median_ms": results,
                          "ratios": ratios,
                          "meets_goals": ratios["cnnzoo_over_timm_and_load"] <= 0.5
                          and ratios["cnnzoo_over_read"] <= 2.0}, indent=2))
        return
    print(f"{args.model} from a local cnnzoo folder, median of {args.runs} runs")
    for name, ms in results.items():
        print(f"  {name:<14} {ms:8.1f} ms")
    print(f"  cnnzoo / (timm + load_state_dict) = {ratios['cnnzoo_over_timm_and_load']:.3f}"
          "  (goal <= 0.5)")
    print(f"  cnnzoo / read file into memory    = {ratios['cnnzoo_over_read']:.3f}"
          "  (goal <= 2)")
    print(f"  cnnzoo / mmap safetensors (lazy)  = {ratios['cnnzoo_over_mmap']:.3f}"
          "  (the floor: no bytes copied)")


if __name__ == "__main__":
    main()
