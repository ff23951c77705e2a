"""Import-time benchmark: is listing the zoo as cheap as importing torch?

Each statement runs in a fresh interpreter (``sys.executable``), ``--repeat`` times,
the candidates interleaved so drift hits them alike; one unrecorded warm-up run of
each fills the OS file cache and the ``.pyc`` caches. Two times are taken per run:

* ``stmt``: ``time.perf_counter()`` around the statement inside the child — the
  cost of the import itself (the primary number, and what the ratios use);
* ``process``: wall time of the whole child process, interpreter start-up included.

The medians are reported. ``cnnzoo / torch`` is the ratio to watch (goal ≤ 1.15:
``import cnnzoo; cnnzoo.list_models()`` reads specs only and must not cost more
than importing torch); ``timm / torch`` is measured for context.

Usage::

    python bench/import_time.py [--repeat 7] [--json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time

GOAL = 1.15

# name -> statement; each child prints JSON with its own timing and what it imported.
CANDIDATES: dict[str, str] = {
    "torch": "import torch",
    "cnnzoo": "import cnnzoo; n = len(cnnzoo.list_models())",
    "timm": "import timm; n = len(timm.list_models())",
}

CHILD = """\
import json, sys, time
t0 = time.perf_counter()
{stmt}
t1 = time.perf_counter()
print(json.dumps({{
    "stmt_s": t1 - t0,
    "models": globals().get("n"),
    "imported": sorted(m for m in ("torch", "torchvision", "timm") if m in sys.modules),
}}))
"""


def run_once(stmt: str) -> dict[str, object]:
    """Run ``stmt`` in a fresh interpreter; return its timings and what it imported."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD.format(stmt=stmt)],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{stmt!r} failed (exit {proc.returncode}):\n{proc.stderr}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["process_s"] = wall
    return result


def measure(repeat: int, candidates: dict[str, str]) -> dict[str, object]:
    for stmt in candidates.values():  # warm-up, not recorded
        run_once(stmt)
    samples: dict[str, list[dict[str, object]]] = {name: [] for name in candidates}
    for _ in range(repeat):
        for name, stmt in candidates.items():
            samples[name].append(run_once(stmt))

    out: dict[str, object] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "executable": sys.executable,
        "repeat": repeat,
        "goal_cnnzoo_over_torch": GOAL,
        "results": {},
    }
    results: dict[str, dict[str, object]] = {}
    for name, runs in samples.items():
        stmt_times = [float(r["stmt_s"]) for r in runs]  # type: ignore[arg-type]
        proc_times = [float(r["process_s"]) for r in runs]  # type: ignore[arg-type]
        results[name] = {
            "statement": candidates[name],
            "stmt_median_s": statistics.median(stmt_times),
            "process_median_s": statistics.median(proc_times),
            "stmt_s": stmt_times,
            "process_s": proc_times,
            "models": runs[-1]["models"],
            "imported": runs[-1]["imported"],
        }
    out["results"] = results
    torch_stmt = results["torch"]["stmt_median_s"]
    torch_proc = results["torch"]["process_median_s"]
    ratios = {}
    for name in ("cnnzoo", "timm"):
        ratios[f"{name}_over_torch"] = results[name]["stmt_median_s"] / torch_stmt
        ratios[f"{name}_over_torch_process"] = results[name]["process_median_s"] / torch_proc
    out["ratios"] = ratios
    out["meets_goal"] = ratios["cnnzoo_over_torch"] <= GOAL
    return out


def report(res: dict[str, object]) -> str:
    results: dict[str, dict[str, object]] = res["results"]  # type: ignore[assignment]
    ratios: dict[str, float] = res["ratios"]  # type: ignore[assignment]
    imported = {
        name: ",".join(r["imported"]) or "-"  # type: ignore[arg-type]
        for name, r in results.items()
    }
    width = max(len("imports"), *(len(v) for v in imported.values()))
    lines = [
        f"import time, median of {res['repeat']} fresh interpreters (Python {res['python']})",
        "",
        f"{'':8} {'import':>11} {'process':>10}  {'imports':{width}}  statement",
    ]
    for name, r in results.items():
        lines.append(
            f"{name:8} {r['stmt_median_s'] * 1e3:9.1f}ms {r['process_median_s'] * 1e3:8.1f}ms"
            f"  {imported[name]:{width}}  {r['statement']}"
        )
    verdict = "meets" if res["meets_goal"] else "MISSES"
    lines += [
        "",
        f"cnnzoo / torch = {ratios['cnnzoo_over_torch']:.3f} "
        f"(whole process {ratios['cnnzoo_over_torch_process']:.3f}); "
        f"{verdict} the goal <= {GOAL}",
        f"timm   / torch = {ratios['timm_over_torch']:.3f} "
        f"(whole process {ratios['timm_over_torch_process']:.3f}); for context",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat", type=int, default=7, help="fresh interpreters per statement (default 7)"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON result")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    res = measure(args.repeat, CANDIDATES)
    print(json.dumps(res, indent=2) if args.json else report(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
