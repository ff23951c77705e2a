"""Generate the model gallery at docs build time (a mkdocs-gen-files script).

Writes ``models/index.md`` — one row per registered model, built-in or plugin —
and ``models/<family>.md`` with every spec's details. For the smallest model of
each family the per-layer summary of :mod:`cnnzoo.analysis` is included when
that module is importable; the model is built on PyTorch's ``meta`` device (shapes
only: no memory, no initialisation) at no more than 64×64 (at its own input size when
64×64 is too small for it), so the whole docs build stays fast. Any error other than a missing
``cnnzoo.analysis`` fails the build on purpose: the gallery must not silently
drop a model.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

import mkdocs_gen_files

import cnnzoo
from cnnzoo.spec import ENTRY_POINT_GROUP, REGISTRY, ModelSpec

log = logging.getLogger("mkdocs.gen_gallery")
SUMMARY_MAX_SIDE = 64  # the per-layer summary is computed at most at 64×64
SUMMARY_OPEN_LINES = 40  # longer summaries start collapsed
GALLERY_SCRIPT = "gen_gallery.py"  # edit path of the generated index (relative to docs/)


# -- small formatting helpers ---------------------------------------------------------
def cell(text: object) -> str:
    """Text that is safe inside a Markdown table cell."""
    return str(text).replace("|", r"\|").replace("\n", " ")


def code(text: object) -> str:
    return f"`{text}`"


def fmt_params(n: int | None) -> str:
    return "—" if n is None else f"{n / 1e6:.2f}"


def fmt_gmacs(g: float | None) -> str:
    if g is None:
        return "—"
    return f"{g:.3g}" if g < 0.01 else f"{g:.2f}"


def fmt_size(size: Iterable[int]) -> str:
    c, h, w = tuple(size)
    return f"{c}×{h}×{w}"


def yes_no(flag: bool) -> str:
    return "✓" if flag else "—"


def page_name(family: str) -> str:
    """The file stem of a family page (``index`` is taken by the gallery itself)."""
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", family).strip("-") or "family"
    return "index-family" if stem == "index" else stem


def anchor(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", name)


def name_link(spec: ModelSpec, from_index: bool = True) -> str:
    target = f"{page_name(spec.family)}.md#{anchor(spec.name)}"
    link = f"[{code(spec.name)}]({target})" if from_index else code(spec.name)
    if spec.aliases:
        link += " (" + ", ".join(code(a) for a in spec.aliases) + ")"
    return link


def paper_link(spec: ModelSpec) -> str:
    if spec.paper is None:
        return "—"
    return f"[{cell(spec.paper.title)}]({spec.paper.url}) ({spec.paper.year})"


def top1(metrics: dict[str, float]) -> str:
    """`` (76.1 %)`` from the first ``…/top1`` metric, or ``""``."""
    for key, value in metrics.items():
        if key.endswith("/top1"):
            return f" ({value:.1f} %)"
    return ""


def tags(spec: ModelSpec, with_accuracy: bool = False) -> str:
    if not spec.weights:
        return "—"
    out = []
    for tag, weights in spec.weights.items():
        text = f"**{code(tag)}**" if tag == spec.default_tag else code(tag)
        out.append(text + (top1(weights.metrics) if with_accuracy else ""))
    return ", ".join(out)


# -- where each built-in spec is declared (for "edit this page") ------------------------
def spec_modules() -> dict[str, str]:
    """``{model name: "package.module"}`` for specs declared through entry points."""
    where: dict[str, str] = {}
    for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
        dist = getattr(ep, "dist", None)
        if dist is None or dist.name != "cnnzoo":
            continue
        obj = ep.load()
        for spec in obj() if callable(obj) else obj:
            where.setdefault(spec.name, ep.value.partition(":")[0])
    return where


def family_edit_path(specs: list[ModelSpec], modules: dict[str, str]) -> str:
    found = {modules.get(s.name) for s in specs}
    if len(found) == 1 and None not in found:
        (module,) = found
        return "../src/" + module.replace(".", "/") + ".py"
    return GALLERY_SCRIPT


# -- the per-layer summary of each family's smallest model ------------------------------
def summary_input(spec: ModelSpec) -> tuple[int, int, int]:
    c, h, w = spec.input_size
    return c, min(h, SUMMARY_MAX_SIDE), min(w, SUMMARY_MAX_SIDE)


def layer_summary(spec: ModelSpec) -> tuple[tuple[int, int, int], str] | None:
    """``(input_size, formatted summary)`` or ``None`` if cnnzoo.analysis is missing."""
    try:
        from cnnzoo.analysis import summary
    except ImportError:
        return None
    import torch

    from cnnzoo.errors import AnalysisError

    size = summary_input(spec)
    with torch.device("meta"):  # shapes, parameters, MACs and RFs need no real weights
        model = cnnzoo.create(spec.name).eval()
    with torch.no_grad():
        try:
            result = summary(model, size)
        except AnalysisError:  # too small for the model (Inception-v3 needs 75×75)
            size = spec.input_size
            result = summary(model, size)
    return size, result.format()


# -- pages ------------------------------------------------------------------------------
def write_index(specs: list[ModelSpec], by_family: dict[str, list[ModelSpec]]) -> None:
    n_cls = sum(s.task == "classification" for s in specs)
    n_seg = sum(s.task == "segmentation" for s in specs)
    n_pre = sum(s.pretrained for s in specs)
    lines = [
        "# Model gallery",
        "",
        f"{len(specs)} models in {len(by_family)} families are registered "
        f"({n_cls} classification, {n_seg} segmentation; {n_pre} with registered "
        "pretrained weights). The table is generated from `cnnzoo.list_models()` and "
        "`cnnzoo.model_info()` when the docs are built, so it lists exactly what the "
        "installed distributions — cnnzoo and any plugin — register.",
        "",
        '!!! tip "The same data from Python"',
        "",
        "    ```python",
        "    import cnnzoo",
        "",
        '    for name in cnnzoo.list_models(task="classification"):',
        "        print(cnnzoo.model_info(name).to_dict())",
        "    ```",
        "",
        "Params are counted at the default `num_classes` and `in_chans`; GMACs are the "
        "multiply-accumulates of one forward pass at the model's default input size. "
        "*Pretrained* lists the registered weight tags (the default in bold) with their "
        "top-1 accuracy where it is registered. Capabilities: *Features* says whether "
        "`create(..., features_only=True)` works, *CAM layer* is the layer "
        "`cnnzoo.explain` uses by default, *Stages* the number of named stages for freezing "
        "and per-stage learning rates, *tv .pth* whether torchvision checkpoints load with "
        "`checkpoint_path=`.",
        "",
        "## Families",
        "",
        "| Family | Models | Task | Paper |",
        "| --- | ---: | --- | --- |",
    ]
    for family, members in by_family.items():
        task = ", ".join(sorted({s.task for s in members}))
        papers = []
        for s in members:
            link = paper_link(s)
            if link not in papers:
                papers.append(link)
        lines.append(
            f"| [{cell(family)}]({page_name(family)}.md) | {len(members)} | {task} "
            f"| {'<br>'.join(papers)} |"
        )
    lines += [
        "",
    ]
    for task in sorted({s.task for s in specs}):
        lines += [
            f"## {task.capitalize()} models {{ #{anchor(task)} }}",
            "",
            "| Model (aliases) | Family | Params (M) | GMACs | Input | Pretrained "
            "| Paper | Features | CAM layer | Stages | tv .pth |",
            "| --- | --- | ---: | ---: | --- | --- | --- | :---: | --- | ---: | :---: |",
        ]
        for s in (s for s in specs if s.task == task):
            paper = f"[{s.paper.year}]({s.paper.url})" if s.paper else "—"
            cells = [
                name_link(s),
                f"[{cell(s.family)}]({page_name(s.family)}.md)",
                fmt_params(s.num_params),
                fmt_gmacs(s.gmacs),
                fmt_size(s.input_size),
                tags(s, with_accuracy=True),
                paper,
                yes_no(s.features_only),
                code(s.cam_layer) if s.cam_layer else "—",
                str(len(s.stages)),
                yes_no("torchvision" in s.checkpoint_converters),
            ]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += capability_section(specs)
    lines.append("")
    with mkdocs_gen_files.open("models/index.md", "w") as fh:
        fh.write("\n".join(lines))
    mkdocs_gen_files.set_edit_path("models/index.md", GALLERY_SCRIPT)


CAPABILITIES = Path(__file__).parent / "assets" / "capabilities.json"
CHECK_TITLES = {"forward": "Forward", "features_only": "Features", "onnx": "ONNX parity",
                "int8": "INT8", "explain": "Explain (auto)", "pt2": ".pt2"}


def capability_cell(result: dict | None) -> str:
    """✓ / ✗ / – for one check, with its measured detail as a tooltip."""
    if not result:
        return "–"
    detail = cell(str(result.get("detail", ""))).replace('"', "'")
    if result.get("ok"):
        return f'<span title="{detail}">✓</span>'
    skipped = result.get("skipped") or "not run" in str(result.get("detail", ""))
    mark = "–" if skipped else "✗"
    return f'<span title="{detail}">{mark}</span>'


def capability_section(specs: list[ModelSpec]) -> list[str]:
    """The capability matrix: what was checked per model, read from the committed data."""
    if not CAPABILITIES.exists():
        return []
    data = json.loads(CAPABILITIES.read_text())
    rows = {row["model"]: row for row in data.get("models", [])}
    env = data.get("environment", {})
    checks = [c for c in data.get("checks", CHECK_TITLES) if c in CHECK_TITLES]
    lines = [
        "## Capability matrix { #capabilities }",
        "",
        "What was checked for every model, from real runs of "
        "`scripts/capability_matrix.py` (random weights, a small input, one thread) — "
        f"cnnzoo {env.get('cnnzoo', '?')}, torch {env.get('torch', '?')}, "
        f"{env.get('date', '?')[:10]}, commit `{env.get('commit', '?')}`. "
        "✓ passed (hover for the measured number), ✗ failed (hover for the error), "
        "– not run (hover for the reason). ONNX and `.pt2` are verified against eager "
        "PyTorch; INT8 is onnxruntime's static quantization calibrated on the digits.",
        "",
        "| Model | " + " | ".join(CHECK_TITLES[c] for c in checks) + " |",
        "| --- | " + " | ".join(":---:" for _ in checks) + " |",
    ]
    for spec in specs:
        row = rows.get(spec.name, {})
        lines.append(f"| {name_link(spec)} | "
                     + " | ".join(capability_cell(row.get(c)) for c in checks) + " |")
    return [*lines, ""]


def spec_section(spec: ModelSpec) -> list[str]:
    d = spec.defaults
    lines = [
        f"## {spec.name} {{ #{anchor(spec.name)} }}",
        "",
    ]
    if spec.description:
        lines += [cell(spec.description).rstrip(".") + ".", ""]
    rows = [
        ("Aliases", ", ".join(code(a) for a in spec.aliases) or "—"),
        ("Task", spec.task),
        ("Registered by", code(spec.source)),
        ("Builder", code(spec.builder)),
        (
            "Defaults",
            f"`num_classes={d['num_classes']}`, `in_chans={d['in_chans']}`, "
            f"input {fmt_size(spec.input_size)}",
        ),
        ("Parameters", "—" if spec.num_params is None else f"{spec.num_params:,}"),
        ("GMACs", f"{fmt_gmacs(spec.gmacs)} at {fmt_size(spec.input_size)}"),
        ("Paper", paper_link(spec)),
        ("CAM layer", code(spec.cam_layer) if spec.cam_layer else "—"),
        ("Stages", ", ".join(code(s) for s in spec.stages) or "—"),
        ("Checkpoint layouts", ", ".join(code(f) for f in ("cnnzoo", *spec.checkpoint_converters))),
        ("Pretrained tags", tags(spec)),
    ]
    if spec.builder_args:
        rows.insert(
            4,
            (
                "Builder arguments",
                ", ".join(code(f"{k}={v!r}") for k, v in spec.builder_args.items()),
            ),
        )
    lines += ["| Property | Value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in rows]
    lines.append("")

    if spec.stage_modules:
        lines += ["**Stages and the modules they own**", "", "| Stage | Modules |", "| --- | --- |"]
        for stage in spec.stages:
            mods = spec.stage_modules.get(stage, ())
            lines.append(f"| {code(stage)} | {', '.join(code(m) for m in mods) or '—'} |")
        lines.append("")

    if spec.feature_info:
        lines += [
            "**Feature stages** (`features_only=True`)",
            "",
            "| Index | Module | Channels | Reduction |",
            "| ---: | --- | ---: | ---: |",
        ]
        for i, f in enumerate(spec.feature_info):
            lines.append(f"| {i} | {code(f.module)} | {f.num_chs} | {f.reduction} |")
        lines.append("")
    else:
        lines += ["`features_only` is not supported (no feature stages declared).", ""]

    if spec.weights:
        lines += [
            "**Pretrained weights**",
            "",
            "| Tag | Repository | Revision | File | Layout | Classes | License | Metrics |",
            "| --- | --- | --- | --- | --- | ---: | --- | --- |",
        ]
        for tag, w in spec.weights.items():
            metrics = ", ".join(f"{k} {v:g}" for k, v in w.metrics.items()) or "—"
            rev = code(w.revision[:12]) if w.revision else "—"
            default = " (default)" if tag == spec.default_tag else ""
            lines.append(
                f"| {code(tag)}{default} | {code(w.repo_id)} | {rev} | {code(w.filename)} "
                f"| {w.format} | {w.num_classes} | {cell(w.license or '—')} | {metrics} |"
            )
        lines.append("")
    return lines


def summary_block(spec: ModelSpec, size: tuple[int, int, int], text: str) -> list[str]:
    """A collapsible block (open when short) holding the per-layer table."""
    body = text.rstrip("\n").splitlines()
    marker = "???+" if len(body) <= SUMMARY_OPEN_LINES else "???"
    title = f"Per-layer summary of {spec.name} at {fmt_size(size)}"
    return [
        f'{marker} example "{title}"',
        "",
        f"    The family's smallest model, from "
        f"`cnnzoo.analysis.summary(cnnzoo.create({spec.name!r}), {size})`: output shape, "
        "parameters, MACs, cumulative stride and receptive field (RF, in input pixels) "
        "of every leaf layer, in execution order.",
        "",
        "    ```text",
        *(f"    {line}".rstrip() for line in body),
        "    ```",
        "",
    ]


def write_family(family: str, members: list[ModelSpec], modules: dict[str, str]) -> None:
    smallest = min(members, key=lambda s: (s.num_params or 0, s.name))
    lines = [
        f"# {family}",
        "",
        f"{len(members)} model{'s' if len(members) != 1 else ''}: "
        + ", ".join(f"[{code(s.name)}](#{anchor(s.name)})" for s in members)
        + ". Back to the [gallery](index.md).",
        "",
        "```python",
        "import cnnzoo",
        "",
        f"model = cnnzoo.create({smallest.name!r})",
        "```",
        "",
    ]
    for spec in members:
        lines += spec_section(spec)
        if spec is smallest:
            found = layer_summary(spec)
            if found is not None:
                size, text = found
                lines += summary_block(spec, size, text)
    path = f"models/{page_name(family)}.md"
    with mkdocs_gen_files.open(path, "w") as fh:
        fh.write("\n".join(lines))
    mkdocs_gen_files.set_edit_path(path, family_edit_path(members, modules))


def main() -> None:
    start = time.perf_counter()
    specs = [cnnzoo.model_info(name) for name in cnnzoo.list_models()]
    for plugin, error in REGISTRY.failed.items():  # a warning: strict builds fail on it
        log.warning(f"gen_gallery: the plugin {plugin} failed to load and is missing: {error}")
    by_family: dict[str, list[ModelSpec]] = defaultdict(list)
    for spec in specs:
        by_family[spec.family].append(spec)
    by_family = dict(sorted(by_family.items()))
    modules = spec_modules()
    write_index(specs, by_family)
    for family, members in by_family.items():
        write_family(family, members, modules)
    log.info(
        f"gen_gallery: {len(specs)} models, {len(by_family)} families "
        f"in {time.perf_counter() - start:.1f} s"
    )


main()
