"""Model-creation benchmark: cnnzoo.create() against timm.create_model().

In one process, after warm-up imports and one unrecorded build of each kind, the
median of ``--runs`` (default 5) builds of ResNet-50, the two libraries timed
alternately so that drift in machine load hits both alike:

* ``random``: ``cnnzoo.create("resnet50")`` vs ``timm.create_model("resnet50")`` —
  both build and randomly initialise the network (cnnzoo builds timm's ResNet, so
  the ratio is the overhead of the registry, kwargs checking and the protocol glue);
* ``checkpoint``: ``cnnzoo.create("resnet50", checkpoint_path=f)`` vs
  ``timm.create_model("resnet50", pretrained=True, pretrained_cfg_overlay=dict(file=f))``
  with ``f`` a safetensors file of a random ResNet-50 state dict written to a
  temporary directory. timm initialises the weights at random and then overwrites
  them; cnnzoo builds on the ``meta`` device and assigns the loaded tensors, so a
  ratio below 1 is the saving of skipping the throw-away initialisation.

Both loads are checked to produce the checkpoint's tensors. ``HF_HUB_OFFLINE=1`` is
set so neither library can reach the network: timm reads the local file only.

Usage::

    python bench/create_time.py [--runs 5] [--model resnet50] [--json]
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
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before huggingface_hub/timm are imported


def timed_ms(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    model = fn()
    elapsed = (time.perf_counter() - start) * 1e3
    del model  # freed outside the timed region
    return elapsed


def interleaved_ms(
    a: Callable[[], object], b: Callable[[], object], runs: int
) -> tuple[list[float], list[float]]:
    """Time ``a`` and ``b`` alternately (``a`` first on even runs, ``b`` on odd ones)."""
    times_a, times_b = [], []
    for i in range(runs):
        if i % 2 == 0:
            times_a.append(timed_ms(a))
            times_b.append(timed_ms(b))
        else:
            times_b.append(timed_ms(b))
            times_a.append(timed_ms(a))
    return times_a, times_b


def same_weights(model, state: dict) -> bool:
    import torch

    own = model.state_dict()
    return set(own) == set(state) and all(torch.equal(own[k], state[k]) for k in state)


def measure(model_name: str, runs: int) -> dict[str, object]:
    import safetensors.torch
    import timm
    import torch

    import cnnzoo
    import cnnzoo.build.factory  # warm-up import, not timed

    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory(prefix="cnnzoo-bench-") as tmp:
        ckpt = Path(tmp) / f"{model_name}.safetensors"
        torch.manual_seed(0)
        reference = timm.create_model(model_name)
        state = {k: v.contiguous() for k, v in reference.state_dict().items()}
        safetensors.torch.save_file(state, str(ckpt))
        del reference

        cases: dict[str, tuple[Callable[[], object], Callable[[], object]]] = {
            "random": (
                lambda: cnnzoo.create(model_name),
                lambda: timm.create_model(model_name),
            ),
            "checkpoint": (
                lambda: cnnzoo.create(model_name, checkpoint_path=ckpt),
                lambda: timm.create_model(
                    model_name, pretrained=True, pretrained_cfg_overlay={"file": str(ckpt)}
                ),
            ),
        }
        # Warm-up: one build of each (lazy imports, allocator, the file in the page cache),
        # and proof that both checkpoint loads yield the file's tensors.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for zoo, ref in cases.values():
                zoo()
                ref()
        verified = {
            "cnnzoo": same_weights(cases["checkpoint"][0](), state),
            "timm": same_weights(cases["checkpoint"][1](), state),
        }
        if not all(verified.values()):
            raise RuntimeError(f"a checkpoint load did not reproduce the file: {verified}")

        results: dict[str, dict[str, object]] = {}
        for case, (zoo, ref) in cases.items():
            zoo_runs, ref_runs = interleaved_ms(zoo, ref, runs)
            zoo_ms, ref_ms = statistics.median(zoo_runs), statistics.median(ref_runs)
            results[case] = {
                "cnnzoo_ms": zoo_ms,
                "timm_ms": ref_ms,
                "ratio_cnnzoo_over_timm": zoo_ms / ref_ms,
                "cnnzoo_runs_ms": zoo_runs,
                "timm_runs_ms": ref_runs,
            }
        size_mb = ckpt.stat().st_size / 2**20

    return {
        "model": model_name,
        "runs": runs,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "timm": timm.__version__,
        "cnnzoo": cnnzoo.__version__,
        "platform": platform.platform(),
        "torch_threads": threads,
        "checkpoint_mb": round(size_mb, 1),
        "checkpoint_verified": verified,
        "results": results,
    }


def report(res: dict[str, object]) -> str:
    results: dict[str, dict[str, float]] = res["results"]  # type: ignore[assignment]
    model = res["model"]
    lines = [
        f"create time of {model}, median of {res['runs']} runs "
        f"(torch {res['torch']}, timm {res['timm']}, {res['torch_threads']} threads; "
        f"checkpoint {res['checkpoint_mb']} MB safetensors)",
        "",
        f"{'case':11} {'cnnzoo':>10} {'timm':>10} {'cnnzoo/timm':>12}",
    ]
    for case, r in results.items():
        lines.append(
            f"{case:11} {r['cnnzoo_ms']:8.1f}ms {r['timm_ms']:8.1f}ms "
            f"{r['ratio_cnnzoo_over_timm']:12.3f}"
        )
    lines += [
        "",
        f"random:     cnnzoo.create({model!r}) vs timm.create_model({model!r})",
        f"checkpoint: cnnzoo.create({model!r}, checkpoint_path=f) vs "
        f"timm.create_model({model!r}, pretrained=True, pretrained_cfg_overlay=dict(file=f))",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed builds per case (default 5)")
    parser.add_argument(
        "--model",
        default="resnet50",
        help="a model both cnnzoo and timm know by this name (default resnet50)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON result")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    res = measure(args.model, args.runs)
    print(json.dumps(res, indent=2) if args.json else report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
