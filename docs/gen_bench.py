"""The benchmark chart and table of the docs, from numbers the ``bench/`` scripts measured.

Three modes:

* ``python docs/gen_bench.py --measure`` runs ``bench/import_time.py``,
  ``bench/create_time.py`` and ``bench/pretrained_load.py`` with ``--json`` (a few
  minutes), then ``bench/deploy_speed.py --json`` (every deployment backend × precision
  on three networks; longer), and writes their output, with the machine it ran on, to
  ``docs/assets/bench/results.json`` — a small file committed with the docs. Re-run it on
  a quiet machine after a change that affects speed.
* ``python docs/gen_bench.py --measure-deploy`` re-runs only ``bench/deploy_speed.py``
  and replaces the ``deploy`` section of that file.
* As a mkdocs-gen-files script (at every docs build) it reads that file, draws
  ``assets/bench/benchmarks.png`` and replaces the ``<!-- bench:results -->`` marker of
  ``guides/benchmarks.md`` with the chart and a table of medians and ratios, followed by
  the deployment table of the machine that measured it (every backend and precision,
  its verification against eager and the fastest verified one), and
  ``<!-- bench:scripts -->`` with the list of ``bench/*.py`` scripts. Nothing is
  measured at build time: the build must stay fast and deterministic.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "docs" / "assets" / "bench" / "results.json"
PAGE = "guides/benchmarks.md"
CHART = "assets/bench/benchmarks.png"
MARKER = "<!-- bench:results -->"
SCRIPTS_MARKER = "<!-- bench:scripts -->"
SCRIPTS = {  # name: command-line arguments
    "import_time": ["--json", "--repeat", "5"],
    "create_time": ["--json"],
    "pretrained_load": ["--json"],
}
DEPLOY = ["--json", "--threads", "2", "--rounds", "5", "--repeats", "30"]


# --------------------------------------------------------------------------- measuring


def measure_deploy() -> dict[str, Any]:
    """``bench/deploy_speed.py --json``: the ``deploy`` section of the results."""
    print(f"running bench/deploy_speed.py {' '.join(DEPLOY)} …", file=sys.stderr)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "deploy_speed.py"), *DEPLOY],
        cwd=ROOT, env=dict(os.environ, HF_HUB_OFFLINE="1"), stdout=subprocess.PIPE,
        text=True, check=True,
    )
    return json.loads(proc.stdout)


def measure() -> dict[str, Any]:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    results = {}
    for name, args in SCRIPTS.items():
        print(f"running bench/{name}.py {' '.join(args)} …", file=sys.stderr)
        proc = subprocess.run(
            [sys.executable, str(ROOT / "bench" / f"{name}.py"), *args],
            cwd=ROOT, env=env, capture_output=True, text=True, check=True,
        )
        results[name] = json.loads(proc.stdout)
    import torch

    return {
        "measured": datetime.date.today().isoformat(),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
        },
        "commands": [f"python bench/{name}.py {' '.join(args)}" for name, args in SCRIPTS.items()],
        "results": results,
        "deploy": measure_deploy(),
    }


# --------------------------------------------------------------------------- the page


def rows(data: dict[str, Any]) -> list[tuple[str, str, float, float, str]]:
    """``(benchmark, case, cnnzoo ms, baseline ms, baseline name)`` for the chart and table."""
    r = data["results"]
    imp = r["import_time"]["results"]
    create = r["create_time"]["results"]
    load = r["pretrained_load"]["median_ms"]
    return [
        ("import and list the zoo", "`import cnnzoo; list_models()` vs `import torch`",
         imp["cnnzoo"]["stmt_median_s"] * 1e3, imp["torch"]["stmt_median_s"] * 1e3, "torch"),
        ("import and list the zoo", "`import cnnzoo; list_models()` vs timm's",
         imp["cnnzoo"]["stmt_median_s"] * 1e3, imp["timm"]["stmt_median_s"] * 1e3, "timm"),
        ("build ResNet-50 (random init)", "`create()` vs `timm.create_model()`",
         create["random"]["cnnzoo_ms"], create["random"]["timm_ms"], "timm"),
        ("ResNet-50 from a checkpoint", "`create(checkpoint_path=…)` vs timm's",
         create["checkpoint"]["cnnzoo_ms"], create["checkpoint"]["timm_ms"], "timm"),
        ("ResNet-50 from a Hub folder", "`create(pretrained=folder)` vs timm + `load_state_dict`",
         load["cnnzoo"], load["timm_and_load"], "timm + load"),
        ("ResNet-50 from a Hub folder", "`create(pretrained=folder)` vs reading the file",
         load["cnnzoo"], load["read"], f"read {r['create_time']['checkpoint_mb']:.0f} MB"),
    ]


def chart(data: dict[str, Any]) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    items = rows(data)
    labels = [f"{what}\n({base})" for what, _, _, _, base in items]
    fig, ax = plt.subplots(figsize=(9, 4.2), layout="constrained")
    y = range(len(items))
    height = 0.38
    ax.barh([i - height / 2 for i in y], [c for _, _, c, _, _ in items], height,
            label="cnnzoo", color="#3f51b5")
    ax.barh([i + height / 2 for i in y], [b for _, _, _, b, _ in items], height,
            label="baseline (in brackets)", color="#b0b0b0")
    for i, (_, _, c, b, _) in enumerate(items):
        ax.text(max(c, b) * 1.15, i, f"{c / b:.2f}×", va="center", fontsize=9)
    ax.set_yticks(list(y), labels, fontsize=8.5)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("median time, ms (log scale); labels: cnnzoo time as a multiple of the baseline")
    ax.set_xlim(right=max(max(c, b) for _, _, c, b, _ in items) * 4)
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="lower right", fontsize=8.5)
    ax.set_title(f"Measured {data['measured']} on {data['machine']['cpus']} CPU(s), "
                 f"torch {data['machine']['torch']}", fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=85, facecolor="white")
    plt.close(fig)
    return buffer.getvalue()


def table(data: dict[str, Any]) -> str:
    m = data["machine"]
    lines = [
        "![cnnzoo against its baselines: median times of each benchmark, log scale, with "
        "the ratio cnnzoo ÷ baseline](../assets/bench/benchmarks.png)",
        "",
        "| Benchmark | Comparison | cnnzoo (ms) | Baseline (ms) | cnnzoo ÷ baseline |",
        "| --- | --- | ---: | ---: | ---: |",
    ]
    for what, case, c, b, _ in rows(data):
        lines.append(f"| {what} | {case} | {c:,.1f} | {b:,.1f} | {c / b:.2f} |")
    lines += [
        "",
        f"Measured on {data['measured']}: {m['platform']}, {m['cpus']} CPU(s) "
        f"({m['torch_threads']} torch threads), Python {m['python']}, torch {m['torch']}. "
        "The numbers come from [`docs/assets/bench/results.json`](../assets/bench/results.json),"
        " written by `python docs/gen_bench.py --measure`, which runs:",
        "",
        "```bash",
        *data["commands"],
        "```",
    ]
    if data.get("deploy"):
        lines += ["", deploy_table(data["deploy"])]
    return "\n".join(lines)


def deploy_table(deploy: dict[str, Any]) -> str:
    """The deployment section: per network, every backend × precision with its
    verification, the ratios against their goals and the fastest verified backend."""
    m = deploy["machine"]
    amx = ", ".join(m.get("amx") or []) or "none"
    lines = [
        "### Deployment backends",
        "",
        f"Measured on {deploy['measured']}: {m['cpu']}, {m['cpus']} CPU(s), "
        f"{deploy['threads']} threads, batch {deploy['batch']}; bf16: {m['bf16']}; "
        f"VNNI: {'yes' if m['vnni'] else 'no'}; AMX: {amx}; OpenVINO "
        f"{m.get('openvino', 'not installed')} (capabilities "
        f"{', '.join(m.get('openvino_capabilities') or ['-'])}), onnxruntime "
        f"{deploy['onnxruntime']}, torch {m['torch']}. Median of {deploy['repeats']} runs "
        f"over {deploy['rounds']} interleaved rounds; load average "
        f"{deploy['load_before'][0]:.1f} before, {deploy['load_after'][0]:.1f} after "
        f"(on a loaded machine eager PyTorch suffers most, which flatters the ratios).",
        "",
        "Every backend is checked against eager fp32 before its time counts: fp32 within "
        "the export tolerance, bf16 and INT8 by top-1 agreement on 32 real images (crops of "
        "scikit-learn's two sample photos; INT8 is calibrated on 32 other crops, through "
        "`cnnzoo.quantize`'s accuracy gate and fallback ladder on 32 more). A backend "
        "that fails is marked **failed**, with its number, and never named the fastest.",
    ]
    for name, model in deploy["models"].items():
        base = next((r for r in model["rows"] if r["backend"] == "eager"), None)
        lines += ["", f"**{name}** {'×'.join(map(str, model['input_size']))} "
                      f"({model['weights']})", "",
                  "| Backend | Precision | Median (ms) | ÷ eager fp32 | Size (MB) | Verification |",
                  "| --- | --- | ---: | ---: | ---: | --- |"]
        for r in model["rows"]:
            ms = "-" if r["median_ms"] is None else f"{r['median_ms']:,.1f}"
            ratio = (f"{r['median_ms'] / base['median_ms']:.3f}"
                     if r["median_ms"] and base and base["median_ms"] else "-")
            size = "-" if r["size_bytes"] is None else f"{r['size_bytes'] / 1e6:.1f}"
            check = (f"failed: {r['error']}" if r["error"] else
                     (r["check"] or "") if r["verified"] else f"**failed**: {r['check']}")
            best = " **(fastest)**" if r["backend"] == model["fastest"] else ""
            lines.append(f"| `{r['backend']}`{best} | {r['precision']} | {ms} | {ratio} | "
                         f"{size} | {check.replace('|', '&#124;')} |")
        goals = model.get("goals") or {}
        ratios = [f"{k.replace('/', ' ÷ ')} **{v:.3f}**"
                  + (f" (goal ≤ {goals[k]}: {'met' if v <= goals[k] else 'missed'})"
                     if k in goals else "")
                  for k, v in model["ratios"].items() if v is not None]
        if ratios:
            lines += ["", "Ratios: " + "; ".join(ratios) + "."]
        lines += _int8_notes(model["rows"])
    if deploy.get("left_out"):
        lines += ["", *(f"- {n}" for n in deploy["left_out"])]
    lines += ["", "```bash", deploy["command"], "```"]
    return "\n".join(lines)


def _int8_notes(rows: list[dict[str, Any]]) -> list[str]:
    """What the accuracy gate did for each INT8 row (an accepted fallback, or none passed)."""
    notes = []
    for r in rows:
        detail = r.get("detail") or ""
        for marker in ("accepted fallback:", "no configuration of the fallback ladder"):
            if marker in detail:  # the bench's last clause: what quantize's gate did
                notes.append(f"- `{r['backend']}`: {detail[detail.index(marker):]}")
    return ["", *notes] if notes else []


def scripts() -> str:
    """A table of every ``bench/*.py`` script and the first line of its docstring."""
    import ast

    lines = ["| Script | What it measures |", "| --- | --- |"]
    for path in sorted((ROOT / "bench").glob("*.py")):
        doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
        first = doc.strip().splitlines()[0] if doc.strip() else "—"
        lines.append(f"| `bench/{path.name}` | {first} |")
    return "\n".join(lines)


def build_page() -> None:
    import logging

    import mkdocs_gen_files

    data = json.loads(RESULTS.read_text(encoding="utf-8"))
    docs_dir = Path(mkdocs_gen_files.config["docs_dir"])
    text = (docs_dir / PAGE).read_text(encoding="utf-8")
    if MARKER not in text:
        raise ValueError(f"{PAGE} has no {MARKER} marker for the benchmark results")
    with mkdocs_gen_files.open(PAGE, "w") as fh:
        fh.write(text.replace(MARKER, table(data)).replace(SCRIPTS_MARKER, scripts()))
    mkdocs_gen_files.set_edit_path(PAGE, PAGE)
    with mkdocs_gen_files.open(CHART, "wb") as fh:
        fh.write(chart(data))
    logging.getLogger("mkdocs.gen_bench").info(f"gen_bench: results of {data['measured']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--measure", action="store_true",
                        help=f"run the benchmarks and write {RESULTS.relative_to(ROOT)}")
    parser.add_argument("--measure-deploy", action="store_true",
                        help="re-run bench/deploy_speed.py only and replace the 'deploy' "
                             "section")
    options = parser.parse_args()
    if not options.measure and not options.measure_deploy:
        parser.error("nothing to do: pass --measure or --measure-deploy (the docs build runs "
                     "this file itself)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if options.measure:
        data = measure()
    else:
        data = json.loads(RESULTS.read_text(encoding="utf-8"))
        data["deploy"] = measure_deploy()
    RESULTS.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS}", file=sys.stderr)
else:
    build_page()
