"""A torchvision-sourced tag, second load: cnnzoo's cached safetensors against torchvision.

In one process, after warm-up, the median of ``--runs`` loads (interleaved) of a model
whose pretrained tag comes from torchvision's weights registry:

* ``cnnzoo``: ``cnnzoo.create(name, pretrained=True)`` once the tag is cached — it reads
  the converted ``model.safetensors`` (memory-mapped), builds on ``meta`` and assigns;
* ``torchvision``: ``torchvision.models.get_model(name)`` then
  ``load_state_dict(weights.get_state_dict())`` — torchvision's own way, reading its
  cached ``.pth`` (a pickle) on every load after random initialisation.

Both read the same weights from a warm local cache (no network here: the checkpoint is a
torchvision-format file written with random weights under torchvision's own file name, and
cnnzoo's cache entry is produced by its real conversion code from that same file).

Goal (issue #10): cnnzoo ÷ torchvision ≤ 0.5.

Usage::

    python bench/torchvision_weights.py [--models alexnet,googlenet,efficientnet_b7] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

TORCHVISION_NAMES = {"alexnet": "alexnet", "googlenet": "googlenet",
                     "efficientnet_b6": "efficientnet_b6", "efficientnet_b7": "efficientnet_b7"}


def median_ms(fn: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        samples.append((time.perf_counter() - start) * 1e3)
        del result
    return statistics.median(samples)


def _prepare(name: str, root: Path) -> Callable[[], object]:
    """Write torchvision's cached .pth, fill cnnzoo's cache from it; return torchvision's load."""
    import torch
    import torchvision

    import cnnzoo
    from cnnzoo.build import torchvision_weights as tvw

    spec = cnnzoo.model_info(name)
    tag, wspec = spec.resolve_tag(None)
    entry = tvw.torchvision_entry(wspec)
    hub = root / "torch-hub" / "checkpoints"
    hub.mkdir(parents=True, exist_ok=True)
    tv_name = TORCHVISION_NAMES[name]
    model = torchvision.models.get_model(tv_name)
    torch.save(model.state_dict(), hub / Path(entry.url).name)
    state, model_args = tvw._convert(spec, model.state_dict(), f"{name}.{tag}")
    staging = Path(tempfile.mkdtemp(dir=root))
    tvw.cache_root().mkdir(parents=True, exist_ok=True)
    tvw._store(state, staging, tvw.cache_root() / f"{name}.{tag}", url=entry.url,
               model_args=model_args)

    def torchvision_load() -> object:
        net = torchvision.models.get_model(tv_name)
        net.load_state_dict(entry.get_state_dict(model_dir=str(hub), progress=False,
                                                 weights_only=True))
        return net

    return torchvision_load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="alexnet,googlenet,efficientnet_b7")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HF_HUB_CACHE"] = str(Path(tmp) / "hf")
        os.environ["HF_HUB_OFFLINE"] = "1"
        import torch

        import cnnzoo

        torch.set_grad_enabled(False)
        rows = []
        for name in args.models.split(","):
            torchvision_load = _prepare(name, Path(tmp))

            def cnnzoo_load(name: str = name) -> object:
                return cnnzoo.create(name, pretrained=True)

            cnnzoo_load(), torchvision_load()  # warm-up: page cache, imports
            ours, theirs = [], []
            for _ in range(args.runs):  # interleaved, so drift hits both alike
                ours.append(median_ms(cnnzoo_load, 1))
                theirs.append(median_ms(torchvision_load, 1))
            row = {"model": name, "cnnzoo_ms": statistics.median(ours),
                   "torchvision_ms": statistics.median(theirs)}
            row["ratio"] = row["cnnzoo_ms"] / row["torchvision_ms"]
            row["meets_goal"] = row["ratio"] <= 0.5
            rows.append(row)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"{'model':18s} {'cnnzoo ms':>10s} {'torchvision ms':>15s} {'ratio':>7s}  goal ≤ 0.5")
    for row in rows:
        print(f"{row['model']:18s} {row['cnnzoo_ms']:10.1f} {row['torchvision_ms']:15.1f} "
              f"{row['ratio']:7.2f}  {'yes' if row['meets_goal'] else 'NO'}")


if __name__ == "__main__":
    main()
