"""The capability matrix: for every registered model, which verbs were checked, from real runs.

For each model (built-ins and installed plugins) at a small input size, with random
weights scaled to keep activations of order one (conv/linear weights of unit fan-in
variance, norm layers at identity; row field ``init``), in one process:

- ``forward``: ``cnnzoo.create(name)`` and an eager forward pass of the expected shape;
- ``features_only``: ``create(name, features_only=True)`` returns one map per stage with the
  declared channels;
- ``onnx``: ``cnnzoo.export.to_onnx`` verified against eager (max-abs diff, top-1);
- ``int8``: ``cnnzoo.quantize`` static INT8 with onnxruntime, calibrated on the digits;
- ``explain``: ``cnnzoo.explain(model, x, layer="auto")`` gives finite maps in 0..1;
- ``pt2``: ``cnnzoo.export.to_exported_program`` verified against eager.

Each cell records ``ok``, a short ``detail`` (the number, or the error's first line) and
the seconds it took. Models larger than ``--max-params`` skip the INT8 cell with that
reason (quantizing a 200M-parameter model does not fit a 2-core CI budget); nothing is
skipped silently. The result is committed as ``docs/assets/capabilities.json`` and
shown in the gallery.

Usage::

    python scripts/capability_matrix.py [--models 'resnet*'] [--out docs/assets/capabilities.json]
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the repository's tests.helpers: the same random weights

from tests.helpers import scale_to_fan_in  # noqa: E402

CHECKS = ("forward", "features_only", "onnx", "int8", "explain", "pt2")
DEFAULT_OUT = ROOT / "docs" / "assets" / "capabilities.json"


def small_size(spec: Any) -> tuple[int, int, int]:
    """A small input the model accepts: 64 px where it can, more where it needs it."""
    channels, height, _ = spec.input_size
    minimum = {"inception": 96, "alexnet": 64, "googlenet": 64}.get(spec.family, 64)
    if spec.task == "segmentation":
        minimum = 64
    return channels, min(height, max(minimum, 64)), min(height, max(minimum, 64))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"[:300]


class _NotRun(Exception):
    """A check deliberately not run (the reason is recorded)."""


def _cell(fn: Callable[[], str]) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        detail = fn()
        ok = True
    except _NotRun as reason:
        return {"ok": False, "skipped": True, "detail": str(reason), "seconds": 0.0}
    except Exception as exc:  # a failed check is data, recorded with its reason
        detail, ok = _first_line(exc), False
        if os.environ.get("CNNZOO_DEBUG"):
            traceback.print_exc()
    return {"ok": ok, "detail": detail, "seconds": round(time.perf_counter() - start, 2)}


def check_model(name: str, checks: tuple[str, ...] = CHECKS, *, workdir: Path,
                max_params: int = 100_000_000) -> dict[str, Any]:
    """Run ``checks`` for one model; return its row of the matrix."""
    import torch

    import cnnzoo

    spec = cnnzoo.model_info(name)
    size = small_size(spec)
    torch.manual_seed(0)
    model = scale_to_fan_in(cnnzoo.create(name)).eval()
    x = torch.rand(2, *size)
    params = cnnzoo.analysis.count_params(model)
    row: dict[str, Any] = {"model": name, "family": spec.family, "task": spec.task,
                           "input_size": list(size), "params": params, "init": "fan-in"}

    def forward() -> str:
        with torch.no_grad():
            out = model(x)
        assert torch.isfinite(out).all(), "non-finite output"
        return "x".join(map(str, out.shape))

    def features() -> str:
        if not spec.feature_info:
            raise RuntimeError("the spec declares no feature stages")
        extractor = cnnzoo.create(name, features_only=True).eval()
        with torch.no_grad():
            maps = extractor(x)
        channels = [int(m.shape[1]) for m in maps]
        assert channels == extractor.feature_info.channels(), channels
        return ",".join(map(str, channels))

    def onnx() -> str:
        report = cnnzoo.export.to_onnx(model, workdir / f"{name}.onnx", input_size=size)
        assert report.verified, report.table()
        return f"max|Δ| {report.max_abs_diff:.1e}"

    def int8() -> str:
        if params > max_params:
            raise _NotRun(f"not run: {params / 1e6:.0f}M parameters > --max-params")
        result = cnnzoo.quantize(workdir / f"{name}.onnx", calibration="digits",
                                 num_calibration=16, output=workdir / f"{name}.int8.onnx",
                                 latency_batch_sizes=(1,), latency_repeats=1)
        return f"size ×{result.report.size_ratio:.2f}" if result.report.size_ratio else "ok"

    def explain() -> str:
        result = cnnzoo.explain(model, x, layer="auto")
        maps = result.maps
        assert torch.isfinite(maps).all() and float(maps.min()) >= 0 and float(maps.max()) <= 1
        return str(result.layer) if hasattr(result, "layer") else "ok"

    def pt2() -> str:
        report = cnnzoo.export.to_exported_program(model, workdir / f"{name}.pt2",
                                                   input_size=size)
        assert report.verified, report.table()
        return f"max|Δ| {report.max_abs_diff:.1e}"

    runners = {"forward": forward, "features_only": features, "onnx": onnx, "int8": int8,
               "explain": explain, "pt2": pt2}
    for check in CHECKS:
        if check in checks:
            row[check] = _cell(runners[check])
        else:
            row[check] = {"ok": False, "skipped": True, "seconds": 0.0,
                          "detail": "not run in this pass (--checks)"}
    for leftover in workdir.glob(f"{name}*"):
        leftover.unlink(missing_ok=True)
    return row


def _environment() -> dict[str, Any]:
    import torch

    import cnnzoo

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    return {"date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "cnnzoo": cnnzoo.__version__, "torch": torch.__version__,
            "python": platform.python_version(), "machine": platform.processor() or
            platform.machine(), "cpus": os.cpu_count(), "commit": commit}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="*", help="fnmatch pattern(s), comma-separated")
    parser.add_argument("--checks", default=",".join(CHECKS))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--max-params", type=int, default=100_000_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import torch

    import cnnzoo

    torch.set_num_threads(args.threads)
    names = cnnzoo.list_models(args.models.split(","))
    checks = tuple(c for c in args.checks.split(",") if c)
    rows: dict[str, Any] = {}
    if args.out.exists():  # update in place: rows of models not re-run are kept
        rows = {r["model"]: r for r in json.loads(args.out.read_text()).get("models", [])}
    with tempfile.TemporaryDirectory(prefix="cnnzoo-matrix-") as tmp:
        for i, name in enumerate(names, 1):
            start = time.perf_counter()
            try:
                row = check_model(name, checks, workdir=Path(tmp), max_params=args.max_params)
                rows[name] = _keep_cells_not_run(rows.get(name), row, checks)
            except Exception as exc:  # the model cannot even be built: one failed row
                rows[name] = {"model": name, **{c: {"ok": False, "detail": _first_line(exc),
                                                    "seconds": 0.0} for c in checks}}
            cells = " ".join(f"{c}={'ok' if rows[name][c]['ok'] else 'FAIL'}" for c in checks
                             if c in rows[name])
            print(f"[{i}/{len(names)}] {name} ({time.perf_counter() - start:.0f}s) {cells}",
                  flush=True)
            _write(args.out, rows)
    registered = set(cnnzoo.list_models())
    _write(args.out, {k: v for k, v in rows.items() if k in registered})


def _keep_cells_not_run(old: dict[str, Any] | None, new: dict[str, Any],
                        checks: tuple[str, ...]) -> dict[str, Any]:
    """``new`` with the cells of checks outside ``checks`` taken from the ``old`` row.

    ``--checks onnx`` re-runs one column: the others keep their recorded results.
    """
    if old is None:
        return new
    return {**new, **{c: old[c] for c in CHECKS if c not in checks and c in old}}


def _write(path: Path, rows: dict[str, Any]) -> None:
    payload = {"environment": _environment(), "checks": list(CHECKS),
               "models": [rows[k] for k in sorted(rows)]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=1, default=_jsonable) + "\n")
    os.replace(tmp, path)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


if __name__ == "__main__":
    sys.exit(main())
