"""Training-loop overhead: one epoch of cnnzoo's ``fit`` against a hand-written PyTorch loop.

ResNet-18 (3×64×64 input, 10 classes) trains for one epoch on the 1,437 training
digits (``cnnzoo.data.digits``), batch size 32, AdamW (lr 1e-3, no weight decay)
with a per-step cosine schedule, in two ways, alternately, from the same initial
weights and the same shuffling:

* ``fit``: ``cnnzoo.train.fit(model, train, epochs=1, ...)`` with its defaults
  (per-stage parameter groups, metrics, callbacks machinery; no progress bar);
* ``loop``: the plain loop everyone writes — ``DataLoader`` → forward →
  cross-entropy → backward → ``AdamW.step`` → ``LambdaLR.step``, summing loss and
  correct predictions.

Both do the same arithmetic, so the script also checks that the two runs end with
the same weights (max abs difference) before reporting. The figure of merit is
``fit / loop`` of the median epoch times — goal ≤ 1.05 (the loop adds no overhead).
Wall time and the process's CPU time are both reported, and the median time of one
step (from one forward call to the next, stamped by a forward-pre hook on both
models): on a machine shared with other work, CPU time (with ``--threads 1``) and the
median step are far less sensitive to the load than the epoch's wall time.

Usage::

    python bench/train_overhead.py [--runs 3] [--size 64] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import platform
import statistics
import sys
import time

GOAL = 1.05


def make_data(size: int):
    from cnnzoo.data import digits

    return digits((3, size, size)).train


def _stamp(stamps: list[float]):
    def hook(*_: object) -> None:
        stamps.append(time.perf_counter())

    return hook


def loop_epoch(model, train, *, lr: float, batch_size: int, seed: int) -> dict[str, float]:
    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader

    loader = DataLoader(train, batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    total = len(loader)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(1.0, step / total))))
    model.train()
    loss_sum = torch.zeros((), dtype=torch.float64)
    correct = torch.zeros((), dtype=torch.float64)
    seen = 0
    for images, labels in loader:
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        scheduler.step()
        loss_sum += loss.detach().double() * len(labels)
        correct += (logits.detach().argmax(1) == labels).sum()
        seen += len(labels)
    return {"train_loss": float(loss_sum) / seen, "train_accuracy": float(correct) / seen}


def fit_epoch(model, train, *, lr: float, batch_size: int, seed: int) -> dict[str, float]:
    from cnnzoo.train import fit

    history = fit(model, train, epochs=1, lr=lr, weight_decay=0.0, batch_size=batch_size,
                  seed=seed, progress=False)
    return {k: history.last[k] for k in ("train_loss", "train_accuracy")}


def measure(runs: int, size: int, batch_size: int, lr: float) -> dict[str, object]:
    import torch

    import cnnzoo

    torch.manual_seed(0)
    reference = cnnzoo.create("resnet18", num_classes=10)
    init = {k: v.clone() for k, v in reference.state_dict().items()}
    train = make_data(size)

    def fresh():
        model = cnnzoo.create("resnet18", num_classes=10)
        model.load_state_dict(init)
        return model

    times: dict[str, list[float]] = {"fit": [], "loop": []}
    cpu: dict[str, list[float]] = {"fit": [], "loop": []}
    steps: dict[str, list[float]] = {"fit": [], "loop": []}
    finals: dict[str, object] = {}
    metrics: dict[str, dict[str, float]] = {}
    runners = {"fit": fit_epoch, "loop": loop_epoch}
    # one unrecorded warm-up epoch each (allocator, thread pools, lazy imports)
    for run in runners.values():
        run(fresh(), train, lr=lr, batch_size=batch_size, seed=0)
    for i in range(runs):
        order = ("fit", "loop") if i % 2 == 0 else ("loop", "fit")
        for name in order:
            model = fresh()
            stamps: list[float] = []
            model.register_forward_pre_hook(_stamp(stamps))
            start, start_cpu = time.perf_counter(), time.process_time()
            metrics[name] = runners[name](model, train, lr=lr, batch_size=batch_size, seed=i)
            times[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
            steps[name].extend(b - a for a, b in itertools.pairwise(stamps))
            finals[name] = model.state_dict()
    a, b = finals["fit"], finals["loop"]
    max_diff = max(float((a[k].double() - b[k].double()).abs().max()) for k in a
                   if a[k].is_floating_point())
    med = {k: statistics.median(v) for k, v in times.items()}
    med_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    ratio = med["fit"] / med["loop"]
    ratio_cpu = med_cpu["fit"] / med_cpu["loop"]
    med_step = {k: statistics.median(v) for k, v in steps.items()}
    ratio_step = med_step["fit"] / med_step["loop"]
    return {
        "model": "resnet18", "input": [3, size, size], "batch_size": batch_size,
        "train_images": len(train), "runs": runs, "threads": torch.get_num_threads(),
        "torch": torch.__version__, "python": platform.python_version(),
        "seconds": times, "median_s": med, "ratio_fit_over_loop": ratio,
        "cpu_seconds": cpu, "median_cpu_s": med_cpu, "ratio_fit_over_loop_cpu": ratio_cpu,
        "median_step_s": med_step, "ratio_fit_over_loop_step": ratio_step,
        "goal": GOAL, "meets_goal": ratio <= GOAL, "meets_goal_cpu": ratio_cpu <= GOAL,
        "last_run_metrics": metrics, "max_abs_weight_diff_last_run": max_diff,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed epochs of each (default 3)")
    parser.add_argument("--size", type=int, default=64, help="input height and width")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (default: torch's)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    result = measure(args.runs, args.size, args.batch_size, args.lr)
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    med = result["median_s"]
    print(f"one epoch of resnet18 at {args.size}x{args.size} on {result['train_images']} digits, "
          f"batch {args.batch_size}, {result['threads']} thread(s), {args.runs} runs each")
    for name in ("fit", "loop"):
        samples = ", ".join(f"{t:.2f}" for t in result["seconds"][name])
        cpu_samples = ", ".join(f"{t:.2f}" for t in result["cpu_seconds"][name])
        print(f"  {name:5s} wall median {med[name]:.2f} s ({samples}); "
              f"CPU median {result['median_cpu_s'][name]:.2f} s ({cpu_samples})")
    step = result["median_step_s"]
    print(f"  median step (forward to forward): fit {step['fit'] * 1e3:.1f} ms, "
          f"loop {step['loop'] * 1e3:.1f} ms")
    print(f"  fit / loop = {result['ratio_fit_over_loop']:.3f} epoch wall time, "
          f"{result['ratio_fit_over_loop_cpu']:.3f} epoch CPU time, "
          f"{result['ratio_fit_over_loop_step']:.3f} median step  (goal <= {GOAL}; "
          f"{'met' if result['meets_goal'] else 'NOT met'} on epoch wall time)")
    print(f"  same arithmetic: max |weight difference| after the last pair = "
          f"{result['max_abs_weight_diff_last_run']:.2e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
