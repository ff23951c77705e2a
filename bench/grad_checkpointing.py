"""Gradient checkpointing on CPU: the activation memory it saves and the time it adds.

Two cases, each trained for one step in training mode with and without
``cnnzoo.train.set_grad_checkpointing`` (timm's ``set_grad_checkpointing`` for ResNet-50,
cnnzoo's ``ZooModel.set_grad_checkpointing`` for UNet):

* ``resnet50``: ResNet-50 (timm), 8 × 3 × 224 × 224, cross-entropy on 1,000 classes;
* ``unet``: the classic UNet (base width 64, 31 M parameters), 2 × 3 × 256 × 256,
  cross-entropy on 2 classes per pixel.

Every (case, mode) runs in a fresh interpreter, so that one run's allocations cannot
hide in the next one's numbers, started with ``MALLOC_MMAP_THRESHOLD_=65536``: glibc
then serves every block of 64 KiB or more with ``mmap`` and gives it back on ``free``,
so the resident set size (RSS) follows the memory PyTorch really holds instead of
what the allocator keeps cached. Measured in the child, without tracemalloc, CUDA or
the profiler:

* **activations** — RSS after the forward pass minus RSS before it, in the second step
  (the first one, unmeasured, makes the one-time allocations): what the graph keeps for
  the backward pass (plus the small output), i.e. what checkpointing trades;
* **peak** — the peak RSS of the whole step (``VmHWM`` in ``/proc/self/status``, reset
  just before the step through ``/proc/self/clear_refs``; ``ru_maxrss`` where that is
  not allowed) minus RSS before it: activations, the recomputed segment, gradients and
  temporaries;
* **step time** — the median CPU time (and wall time) of ``--steps`` further forward +
  backward steps. On a shared machine the process's CPU time is the steadier of the
  two; the wall time is printed as well.

The measured step's loss and gradient norm of both modes are printed too: they must be
equal (checkpointing recomputes, it does not approximate).

Usage::

    python bench/grad_checkpointing.py [--case resnet50|unet] [--runs 1] [--steps 2]
                                       [--threads 2] [--json]

One run of both cases takes a few minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MIB = 2**20


@dataclass(frozen=True)
class Case:
    model: str
    kwargs: dict[str, Any]
    batch: int
    size: int
    classes: int
    segmentation: bool


CASES = {
    "resnet50": Case("resnet50", {}, 8, 224, 1000, False),
    "unet": Case("unet", {"num_classes": 2}, 2, 256, 2, True),
}


# --------------------------------------------------------------------------- the child


def _rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak(reset: bool) -> int:
    if reset:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(case_name: str, checkpointed: bool, steps: int, threads: int) -> dict[str, Any]:
    """One (case, mode): memory of the second step, times of the next ``steps``."""
    import torch
    import torch.nn.functional as F

    import cnnzoo
    from cnnzoo.train import set_grad_checkpointing

    torch.set_num_threads(threads)
    case = CASES[case_name]
    torch.manual_seed(0)
    model = cnnzoo.create(case.model, **case.kwargs).train()
    set_grad_checkpointing(model, checkpointed)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(case.batch, 3, case.size, case.size, generator=gen)
    shape = (case.batch, case.size, case.size) if case.segmentation else (case.batch,)
    target = torch.randint(0, case.classes, shape, generator=gen)
    # one unmeasured step: one-time allocations (thread pools, oneDNN's caches) stay out
    F.cross_entropy(model(x), target).backward()
    model.zero_grad(set_to_none=True)

    base = _rss()
    reset = _reset_peak()
    loss = F.cross_entropy(model(x), target)
    after_forward = _rss()
    loss.backward()
    peak = _peak(reset)
    grad_norm = torch.linalg.vector_norm(
        torch.stack([p.grad.norm() for p in model.parameters() if p.grad is not None]))
    first = {"loss": loss.item(), "grad_norm": grad_norm.item()}
    del loss
    wall, cpu = [], []
    for _ in range(steps):
        model.zero_grad(set_to_none=True)
        start, start_cpu = time.perf_counter(), time.process_time()
        F.cross_entropy(model(x), target).backward()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return {"activations_mib": (after_forward - base) / MIB, "peak_mib": (peak - base) / MIB,
            "peak_source": "VmHWM" if reset else "ru_maxrss", "step_s": wall, "step_cpu_s": cpu,
            "first_step": first, "threads": threads}


# --------------------------------------------------------------------------- the parent


def _spawn(case: str, checkpointed: bool, steps: int, threads: int) -> dict[str, Any]:
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", OMP_NUM_THREADS=str(threads),
               HF_HUB_OFFLINE="1")
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", case,
           "on" if checkpointed else "off", "--steps", str(steps), "--threads", str(threads)]
    out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(case: str, runs: int, steps: int, threads: int) -> dict[str, Any]:
    """Alternate plain and checkpointed children ``runs`` times; medians of each."""
    samples: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    for i in range(runs):
        for mode in (("off", "on") if i % 2 == 0 else ("on", "off")):
            print(f"  {case}: checkpointing {mode} (run {i + 1}/{runs}) …", file=sys.stderr)
            samples[mode].append(_spawn(case, mode == "on", steps, threads))
    med: dict[str, dict[str, float]] = {}
    for mode, rows in samples.items():
        med[mode] = {
            "activations_mib": statistics.median(r["activations_mib"] for r in rows),
            "peak_mib": statistics.median(r["peak_mib"] for r in rows),
            "step_s": statistics.median(t for r in rows for t in r["step_s"]),
            "step_cpu_s": statistics.median(t for r in rows for t in r["step_cpu_s"]),
        }
    off, on = med["off"], med["on"]
    first_off, first_on = samples["off"][0]["first_step"], samples["on"][0]["first_step"]
    spec = CASES[case]
    return {
        "case": case, "model": spec.model, "input": [spec.batch, 3, spec.size, spec.size],
        "runs": runs, "steps": steps, "samples": samples, "median": med,
        "activations_saved": 1 - on["activations_mib"] / off["activations_mib"],
        "peak_saved": 1 - on["peak_mib"] / off["peak_mib"],
        "time_added": on["step_s"] / off["step_s"] - 1,
        "cpu_time_added": on["step_cpu_s"] / off["step_cpu_s"] - 1,
        "same_loss": first_off["loss"] == first_on["loss"],
        "grad_norm_rel_diff": abs(first_on["grad_norm"] - first_off["grad_norm"])
        / first_off["grad_norm"],
        "peak_source": samples["on"][0]["peak_source"],
    }


def _print(result: dict[str, Any]) -> None:
    off, on = result["median"]["off"], result["median"]["on"]
    shape = "×".join(map(str, result["input"]))
    print(f"{result['model']} {shape}, {result['runs']} run(s), median of "
          f"{result['steps']} timed step(s) each")
    print(f"  {'':14s} {'activations':>12s} {'peak':>10s} {'wall':>9s} {'CPU':>9s}")
    for mode, row in (("plain", off), ("checkpointed", on)):
        print(f"  {mode:14s} {row['activations_mib']:9.0f} MiB {row['peak_mib']:6.0f} MiB "
              f"{row['step_s']:7.2f} s {row['step_cpu_s']:7.2f} s")
    print(f"  activation memory saved {result['activations_saved']:.0%}, peak saved "
          f"{result['peak_saved']:.0%} ({result['peak_source']}); time added "
          f"{result['cpu_time_added']:+.0%} CPU, {result['time_added']:+.0%} wall")
    print(f"  same loss: {result['same_loss']}; gradient norm relative difference "
          f"{result['grad_norm_rel_diff']:.1e}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--case", choices=sorted(CASES), action="append",
                        help="resnet50 and/or unet (default: both)")
    parser.add_argument("--runs", type=int, default=1, help="children per mode (default 1)")
    parser.add_argument("--steps", type=int, default=2,
                        help="timed steps after the measured one (default 2)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1] == "on", args.steps, args.threads)))
        return 0
    results = [measure(c, args.runs, args.steps, args.threads) for c in args.case or CASES]
    if args.json:
        import torch

        print(json.dumps({"results": results, "torch": torch.__version__,
                          "python": platform.python_version(), "threads": args.threads,
                          "cpus": os.cpu_count()}, indent=2))
        return 0
    for result in results:
        _print(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
