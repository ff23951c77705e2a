"""The files of an evaluation: ``report.html``, ``report.md``, ``metrics.json`` and pictures.

:func:`write_report` renders an :class:`~cnnzoo.deploy.evaluation.EvalReport` into a
folder. Everything is written to a staging folder beside it first and moved into place
only when complete, so an error never leaves a half-written report. ``report.html`` is
self-contained: its pictures are base64 PNG data URIs and it loads nothing, so it reads
offline and can be mailed or attached to a CI run. ``report.md`` shows the same tables
and links the PNGs written beside it; ``metrics.json`` is
:meth:`EvalReport.to_dict <cnnzoo.deploy.evaluation.EvalReport.to_dict>`.

The pictures (matplotlib, Agg backend, no pyplot state): the normalised confusion
matrix, the reliability diagram, per-class F1, the most confident mistakes with their
Grad-CAM overlays (:func:`cnnzoo.explain`; eager models only), per-class IoU for
segmenters and, for comparisons, accuracy against latency.
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from cnnzoo._version import __version__
from cnnzoo.errors import CnnzooError, EvaluateError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from cnnzoo.deploy.evaluation import EvalReport

__all__ = ["FILES", "figures", "render_html", "render_markdown", "summary_markdown",
           "write_report"]

FILES = ("report.html", "report.md", "metrics.json")
DPI = 90
_MAX_LABELLED_CLASSES = 30  # beyond this, the confusion matrix has no tick labels
_MAX_BARS = 40  # per-class bars: the worst ones beyond this


# -- pictures ------------------------------------------------------------------------------


def _figure(width: float, height: float) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def _confusion_figure(report: EvalReport) -> Figure:
    assert report.classification is not None
    matrix = report.classification.confusion.astype(np.float64)
    norm = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    n = len(report.labels)
    side = min(9.0, max(3.6, 0.42 * n + 1.6))
    fig = _figure(side + 0.8, side)
    ax = fig.add_subplot()
    image = ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, shrink=0.8, label="share of the true class")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title("Confusion matrix (rows normalised)")
    if n <= _MAX_LABELLED_CLASSES:
        ax.set_xticks(range(n), report.labels, rotation=90 if n > 12 else 0)
        ax.set_yticks(range(n), report.labels)
        if n <= 15:
            for (i, j), value in np.ndenumerate(norm):
                if value > 0:
                    ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if value > 0.5 else "black")
    return fig


def _reliability_figure(report: EvalReport) -> Figure:
    assert report.classification is not None
    cal = report.classification.calibration
    edges = np.asarray(cal.edges)
    centres = (edges[:-1] + edges[1:]) / 2
    width = 1.0 / cal.bins
    acc = np.asarray([a if a is not None else 0.0 for a in cal.accuracy])
    conf = np.asarray([c if c is not None else 0.0 for c in cal.confidence])
    filled = np.asarray(cal.counts) > 0
    fig = _figure(4.6, 4.6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    top.bar(centres[filled], acc[filled], width=width, edgecolor="black", color="#4c72b0",
            label="accuracy")
    top.bar(centres[filled], np.abs(conf - acc)[filled],
            bottom=np.minimum(conf, acc)[filled], width=width, color="none",
            edgecolor="#c44e52", hatch="///", label="gap to the mean confidence")
    top.plot([0, 1], [0, 1], "--", color="grey", label="perfect calibration")
    top.set_ylim(0, 1)
    top.set_ylabel("accuracy")
    top.set_title(f"Reliability diagram (ECE {cal.ece:.4f}, {cal.bins} bins)")
    top.legend(loc="upper left", fontsize=8)
    counts = np.asarray(cal.counts)
    bottom.bar(centres[filled], counts[filled], width=width, color="grey", edgecolor="black")
    bottom.set_yscale("log")
    bottom.set_xlim(0, 1)
    bottom.set_xlabel("top-1 confidence")
    bottom.set_ylabel("samples")
    return fig


def _bars_figure(names: Sequence[str], values: Sequence[float | None], title: str,
                 xlabel: str) -> Figure:
    pairs = [(n, 0.0 if v is None else float(v)) for n, v in zip(names, values, strict=True)]
    if len(pairs) > _MAX_BARS:
        pairs = sorted(pairs, key=lambda p: p[1])[:_MAX_BARS]
        title += f" (the {_MAX_BARS} lowest)"
    fig = _figure(5.2, max(2.0, 0.24 * len(pairs) + 1.0))
    ax = fig.add_subplot()
    ax.barh(range(len(pairs)), [v for _, v in pairs], color="#55a868")
    ax.set_yticks(range(len(pairs)), [n for n, _ in pairs])
    ax.invert_yaxis()
    ax.set_xlim(0, 1.05)
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    for i, (_, v) in enumerate(pairs):
        ax.text(min(v, 1.0) + 0.01, i, f"{v:.3f}", va="center", fontsize=7)
    return fig


def _overlays(report: EvalReport) -> tuple[np.ndarray, bool]:
    """``uint8 [B, H, W, 3]`` of the mistakes: Grad-CAM overlays (eager) or the images."""
    from cnnzoo.interpret.render import overlay_pixels, to_display

    images = np.asarray(report.mistake_images)
    mean, std = report.preprocessing.get("mean"), report.preprocessing.get("std")
    if report.eager_model is not None:
        from cnnzoo.interpret.api import explain

        targets = [report.labels.index(m.predicted) for m in report.mistakes]
        try:
            result = explain(report.eager_model, torch.from_numpy(images), method="gradcam",
                             target=targets)
            return overlay_pixels(result.maps, images, mean=mean, std=std), True
        except CnnzooError as exc:
            report.notes.append(f"no Grad-CAM for the mistakes: {exc}")
    rgb = to_display(images, mean=mean, std=std)
    return (rgb.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy(), False


def _mistakes_figure(report: EvalReport) -> Figure:
    pixels, cam = _overlays(report)
    n = len(pixels)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig = _figure(2.0 * cols, 2.2 * rows + 0.4)
    axes = np.atleast_1d(fig.subplots(rows, cols)).ravel()
    for ax in axes:
        ax.axis("off")
    for ax, image, m in zip(axes, pixels, report.mistakes, strict=False):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(f"true {m.true} → {m.predicted}\n{m.confidence:.0%}", fontsize=8)
    fig.suptitle("Most confident mistakes" + (" with Grad-CAM of the predicted class" if cam
                 else " (Grad-CAM needs an eager model)"), fontsize=9)
    return fig


def _comparison_figure(report: EvalReport) -> Figure:
    """Accuracy against latency per image: a colour per backend, a marker per batch size."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    sizes = sorted({b for row in report.comparison for b in row.latency_ms})
    markers = dict(zip(sizes, "os^Dv", strict=False))
    fig = _figure(5.6, 3.8)
    ax = fig.add_subplot()
    every: list[float] = []
    handles = []
    for i, row in enumerate(report.comparison):
        colour = f"C{i % 10}"
        for batch, ms in sorted(row.latency_ms.items()):
            every.append(ms / batch)
            ax.scatter([ms / batch], [row.accuracy * 100], marker=markers.get(batch, "o"),
                       s=55, color=colour, edgecolor="black", linewidth=0.5, zorder=3)
        handles.append(Line2D([], [], linestyle="", marker="o", color=colour,
                              label=f"{row.name} ({row.backend})"))
    handles += [Line2D([], [], linestyle="", marker=markers[b], color="grey",
                       label=f"batch {b}") for b in sizes]
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    if every:
        ax.set_xlim(min(every) / 1.6, max(every) * 1.6)
    accuracies = [row.accuracy * 100 for row in report.comparison]
    ax.set_ylim(max(0.0, min(accuracies) - 2.0), min(100.5, max(accuracies) + 1.0))
    ax.set_xlabel("latency per image (ms, log scale)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title("Accuracy against latency")
    ax.legend(handles=handles, fontsize=7, loc="lower right")
    ax.grid(alpha=0.3)
    return fig


def figures(report: EvalReport) -> dict[str, bytes]:
    """The report's pictures as PNG bytes, by file name (only those that apply)."""
    makers: list[tuple[str, Callable[[EvalReport], Figure]]] = []
    if report.classification is not None:
        per_class = report.classification.per_class
        makers += [("confusion.png", _confusion_figure),
                   ("reliability.png", _reliability_figure),
                   ("f1.png", lambda r: _bars_figure([c.label for c in per_class],
                                                     [c.f1 for c in per_class],
                                                     "F1 per class", "F1"))]
        if report.mistakes and report.mistake_images is not None:
            makers.append(("mistakes.png", _mistakes_figure))
    if report.segmentation is not None:
        seg = report.segmentation
        makers.append(("iou.png", lambda r: _bars_figure(seg.labels, seg.iou, "IoU per class",
                                                         "IoU")))
    if any(row.latency_ms for row in report.comparison):
        makers.append(("comparison.png", _comparison_figure))
    return {name: _png(make(report)) for name, make in makers}


CAPTIONS = {
    "comparison.png": "Accuracy against latency per image, every backend at every batch size",
    "confusion.png": "Confusion matrix, each row normalised by the true class's count",
    "reliability.png": "Reliability diagram: accuracy per confidence bin against the diagonal",
    "f1.png": "F1 per class",
    "mistakes.png": "The most confident mistakes",
    "iou.png": "IoU per class",
}


# -- tables --------------------------------------------------------------------------------


def _tables(report: EvalReport) -> list[tuple[str, Sequence[str], list[Sequence[Any]]]]:
    """``(title, headers, rows)`` of every table of the report, in order."""
    out: list[tuple[str, Sequence[str], list[Sequence[Any]]]] = [
        ("Summary", ("metric", "value"), list(report.summary_rows()))]
    if report.comparison:
        out.append(("Backends", report.comparison_headers(), list(report.comparison_rows())))
    if report.classification is not None:
        out.append(("Per class", ("class", "precision", "recall", "F1", "support"),
                    [(c.label, f"{c.precision:.4f}", f"{c.recall:.4f}", f"{c.f1:.4f}",
                      c.support) for c in report.classification.per_class]))
        if report.mistakes:
            out.append(("Most confident mistakes", ("sample", "true", "predicted", "confidence"),
                        [(m.source or f"#{m.index}", m.true, m.predicted,
                          f"{m.confidence:.4f}") for m in report.mistakes]))
    if report.segmentation is not None:
        s = report.segmentation
        out.append(("Per class", ("class", "IoU", "Dice", "pixels"),
                    [(label, "-" if i is None else f"{i:.4f}",
                      "-" if d is None else f"{d:.4f}", n)
                     for label, i, d, n in zip(s.labels, s.iou, s.dice, s.support,
                                               strict=True)]))
    return out


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |",
             "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def _statements(report: EvalReport) -> list[str]:
    lines = []
    if report.classification is not None:
        lines.append("ECE: " + report.classification.calibration.binning + ".")
    if report.comparison:
        lines.append("Δ points: accuracy minus the reference's (the first row), in percentage "
                     "points; agreement: the share of top-1 predictions equal to the "
                     "reference's; latency: the median per batch, every backend timed "
                     "interleaved in the same run.")
    return lines + [f"Note: {n}" for n in report.notes]


def summary_markdown(report: EvalReport) -> str:
    """The model card's ``## Evaluation`` section: summary, backends, the ECE binning."""
    parts = ["## Evaluation", "",
             f"Measured with `cnnzoo evaluate` (cnnzoo {__version__}) on the {report.dataset} "
             f"({report.num_samples} images).", "",
             _md_table(("metric", "value"), report.summary_rows())]
    if report.comparison:
        parts += ["", _md_table(report.comparison_headers(), report.comparison_rows())]
    for line in _statements(report):
        parts += ["", line]
    return "\n".join(parts).rstrip() + "\n"


def render_markdown(report: EvalReport, pictures: Sequence[str]) -> str:
    """``report.md``: every table, the statements, and links to the PNGs beside it."""
    parts = [f"# Evaluation of {report.model}", "",
             f"{report.dataset}, {report.num_samples} images, backend {report.backend}; "
             f"cnnzoo {__version__}.", ""]
    for title, headers, rows in _tables(report):
        parts += [f"## {title}", "", _md_table(headers, rows), ""]
    for name in pictures:
        parts += [f"![{CAPTIONS.get(name, name)}]({name})", ""]
    for line in _statements(report):
        parts += [line, ""]
    return "\n".join(parts).rstrip() + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:1100px;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5rem 0;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{display:inline-block;margin:.5rem 1rem .5rem 0;vertical-align:top}
figcaption{font-size:.85rem;color:#555;max-width:520px}img{max-width:100%;height:auto}
p.note{font-size:.9rem;color:#444}
"""


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def td(value: Any) -> str:
        text = str(value)
        numeric = text.replace(".", "").replace("%", "").replace("+", "").replace(
            "-", "").replace(",", "").strip().isdigit()
        return f'<td class="num">{html.escape(text)}</td>' if numeric else (
            f"<td>{html.escape(text)}</td>")

    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join("<tr>" + "".join(td(v) for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: EvalReport, pictures: dict[str, bytes]) -> str:
    """``report.html``: self-contained (inline CSS, pictures as data URIs, no scripts)."""
    title = f"Evaluation of {report.model}"
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<link rel="icon" href="data:,">',
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{html.escape(report.dataset)}, {report.num_samples} images, backend "
        f"<code>{html.escape(report.backend)}</code>; cnnzoo {html.escape(__version__)}.</p>",
    ]
    for title_, headers, rows in _tables(report):
        parts += [f"<h2>{html.escape(title_)}</h2>", _html_table(headers, rows)]
    if pictures:
        parts.append("<h2>Pictures</h2>")
    for name, data in pictures.items():
        caption = CAPTIONS.get(name, name)
        uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
        parts.append(f'<figure><img src="{uri}" alt="{html.escape(caption)}">'
                     f"<figcaption>{html.escape(caption)}</figcaption></figure>")
    parts += [f'<p class="note">{html.escape(line)}</p>' for line in _statements(report)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


# -- the folder ----------------------------------------------------------------------------


def write_report(report: EvalReport, directory: str | os.PathLike[str]) -> Path:
    """Write ``report.html``, ``report.md``, ``metrics.json`` and the PNGs into ``directory``.

    Everything is rendered into a staging folder beside ``directory`` first; only when
    all files are complete are they moved in (a new folder is renamed into place in one
    step; an existing one gets its files replaced one by one, ``report.html`` last).

    Returns:
        the folder.

    Raises:
        EvaluateError: ``directory`` is a file.
    """
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise EvaluateError(f"report folder {str(target)!r} is a file")
    target.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        pictures = figures(report)
        for name, data in pictures.items():
            (stage / name).write_bytes(data)
        (stage / "metrics.json").write_text(json.dumps(report.to_dict(), indent=2) + "\n",
                                            encoding="utf-8")
        (stage / "report.md").write_text(render_markdown(report, list(pictures)),
                                         encoding="utf-8")
        (stage / "report.html").write_text(render_html(report, pictures), encoding="utf-8")
        if not target.exists():
            os.replace(stage, target)
            return target
        for item in sorted(stage.iterdir(), key=lambda p: p.name == "report.html"):
            os.replace(item, target / item.name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return target
