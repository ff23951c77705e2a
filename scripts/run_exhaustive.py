"""Run the exhaustive test tier and record its results in ``bench/results/exhaustive.json``.

The default test run checks one model per family; tests marked
``@pytest.mark.exhaustive`` (every model through a verb: the ONNX export of all
registered models…) are skipped there and run here, with ``CNNZOO_EXHAUSTIVE=1``.

The JSON file (committed) records, per test, the outcome (passed / failed / skipped /
error) and the seconds it took, with the date, the machine, the git commit and the
package versions, so a change that breaks or slows one model shows up in review.

Usage::

    python scripts/run_exhaustive.py [--workers N] [--output PATH] [PYTEST ARGS...]

``--workers`` > 1 runs the tests with pytest-xdist; the default (1) runs them in one
process, the fair choice on a shared machine. Extra arguments go to pytest (e.g.
``-k resnet`` to run part of the tier; the file then records only that part).
``--update`` merges such a partial run into the existing file instead: the tests it ran
replace their old entries (each entry then carries the date and commit of its own run,
and ``runs`` lists every run merged in); the others are kept as recorded.
Exit status: pytest's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "exhaustive.json"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                           capture_output=True, text=True).stdout.strip()
    return out.stdout.strip() + ("+dirty" if dirty else "")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {"python": platform.python_version()}
    for name in ("cnnzoo", "torch", "onnx", "onnxruntime", "onnxscript", "timm", "pytest"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            continue
    return found


def _machine() -> dict[str, Any]:
    return {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "hostname": platform.node(),
    }


def _outcome(case: ET.Element) -> tuple[str, str | None]:
    for tag, outcome in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        child = case.find(tag)
        if child is not None:
            return outcome, (child.get("message") or "")[:500] or None
    return "passed", None


def _read_junit(path: Path) -> list[dict[str, Any]]:
    """One entry per test case of a JUnit XML report, in run order."""
    if not path.exists():
        return []
    tests = []
    for case in ET.parse(path).getroot().iter("testcase"):
        module = (case.get("classname") or "").replace(".", "/")
        outcome, message = _outcome(case)
        entry: dict[str, Any] = {
            "test": f"{module}.py::{case.get('name')}",
            "outcome": outcome,
            "seconds": round(float(case.get("time") or 0.0), 3),
        }
        if message:
            entry["message"] = message
        tests.append(entry)
    return tests


def _merge(old: dict[str, Any], tests: list[dict[str, Any]],
           run: dict[str, Any]) -> list[dict[str, Any]]:
    """Old entries with the re-run ones replaced (in place) and new ones appended.

    Every entry of the re-run carries its run's date and commit; ``run["runs"]`` becomes
    the list of runs merged so far (the old file's, then this one).
    """
    stamp = {"date": run["date"], "git_commit": run["git_commit"]}
    fresh = {t["test"]: {**t, **stamp} for t in tests}
    merged = [fresh.pop(t["test"], t) for t in old.get("tests", [])]
    previous = old.get("runs") or [{k: old[k] for k in ("date", "git_commit", "command",
                                                        "seconds", "exit_status") if k in old}]
    run["runs"] = [*previous, {k: run[k] for k in ("date", "git_commit", "command",
                                                   "seconds", "exit_status")}]
    return merged + list(fresh.values())


def _pytest_command(workers: int, junit: Path, extra: list[str]) -> list[str]:
    command = [sys.executable, "-m", "pytest", "-m", "exhaustive", "-q",
               # replace the default addopts (two xdist workers) with ours
               "-o", "addopts=-ra --strict-markers", f"--junitxml={junit}",
               # a test module that does not import must not stop the whole tier
               "--continue-on-collection-errors", "--durations=0"]
    command += ["-n", str(workers)] if workers > 1 else ["-p", "no:xdist"]
    return command + extra


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=1,
                        help="pytest-xdist workers (default 1: one process)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT,
                        help=f"the JSON file to write (default {DEFAULT_OUTPUT.relative_to(ROOT)})")
    parser.add_argument("--update", action="store_true",
                        help="merge this run's tests into the existing file")
    args, extra = parser.parse_known_args(argv)

    env = dict(os.environ, CNNZOO_EXHAUSTIVE="1", HF_HUB_OFFLINE="1")
    with tempfile.TemporaryDirectory(prefix="cnnzoo-exhaustive-") as tmp:
        junit = Path(tmp) / "junit.xml"
        command = _pytest_command(args.workers, junit, extra)
        commit = _git_commit()  # the code under test: recorded before the run starts
        started = dt.datetime.now(dt.timezone.utc)
        t0 = time.perf_counter()
        code = subprocess.call(command, cwd=ROOT, env=env)
        seconds = time.perf_counter() - t0
        tests = _read_junit(junit)

    if not tests:
        print(f"pytest (exit status {code}) reported no test; {args.output} is unchanged",
              file=sys.stderr)
        return code or 1
    run = {
        "date": started.isoformat(timespec="seconds"),
        "git_commit": commit,
        "machine": _machine(),
        "versions": _versions(),
        "command": " ".join(["pytest", *command[3:]]).replace(str(junit), "JUNIT.xml"),
        "workers": args.workers,
        "exit_status": code,
        "seconds": round(seconds, 1),
    }
    if args.update and args.output.exists():
        tests = _merge(json.loads(args.output.read_text(encoding="utf-8")), tests, run)
    counts: dict[str, int] = {}
    for test in tests:
        counts[test["outcome"]] = counts.get(test["outcome"], 0) + 1
    result = {**run, "summary": {"total": len(tests), **dict(sorted(counts.items()))},
              "tests": tests}
    args.output.parent.mkdir(parents=True, exist_ok=True)
    tmp_out = args.output.with_name(f".{args.output.name}.tmp")
    tmp_out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp_out, args.output)
    print(f"\n{len(tests)} exhaustive tests in {seconds:.0f} s: "
          + ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
          + f"; written to {args.output}")
    return code


if __name__ == "__main__":
    sys.exit(main())
