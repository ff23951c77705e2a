"""``cnnzoo evaluate``: the report that decides whether a model ships.

A thin wrapper over :func:`cnnzoo.deploy.evaluation.evaluate`: parse, evaluate, print
the summary (or ``--json``), write ``--report DIR``. ``--min-accuracy`` and
``--max-drop`` turn the report into a gate: the command exits 1 when the model (or a
compared backend) misses them. Nothing heavy is imported until the command runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnzoo.cli import options
from cnnzoo.errors import CommandError

if TYPE_CHECKING:
    from cnnzoo.cli.options import Subcommands

BACKENDS = ("auto", "eager", "eager-bf16", "onnx", "int8", "fp16", "openvino", "openvino-bf16",
            "openvino-int8")  # cnnzoo.deploy.evaluation_backends.BACKENDS (not imported here)
_DERIVED = BACKENDS[1:]


def _compare_entries(entries: list[str]) -> list[str]:
    """``--compare`` values: backend names, registered names or existing files."""
    out = []
    for entry in entries:
        if entry not in _DERIVED and options.looks_like_path(entry) and not Path(entry).exists():
            raise CommandError(f"--compare {entry!r}: no such file or directory")
        out.append(entry)
    return out


def _data(value: str) -> str:
    if value != "digits" and not Path(value).exists():
        raise CommandError(f"--data {value!r}: no such folder (give 'digits' or a folder with "
                           "one sub-folder per class)")
    return value


def _gate(report: Any, min_accuracy: float | None, max_drop: float | None) -> list[str]:
    """Why the report fails ``--min-accuracy`` / ``--max-drop`` (empty: it passes)."""
    failures = []
    if min_accuracy is not None and report.accuracy < min_accuracy:
        failures.append(f"accuracy {report.accuracy:.2%} of {report.model} is below "
                        f"--min-accuracy {min_accuracy:.2%}")
    if max_drop is None:
        return failures
    for row in report.comparison[1:]:
        if -row.accuracy_delta > max_drop + 1e-12:
            failures.append(f"{row.name} loses {-row.accuracy_delta * 100:.2f} points, more "
                            f"than --max-drop {max_drop * 100:.2f}")
    return failures


def cmd_evaluate(args: argparse.Namespace) -> int:
    """``cnnzoo evaluate MODEL --data digits|DIR``: metrics, calibration, comparison."""
    source = options.model_source(args.model, args.pretrained,
                                  random_weights=args.random_weights, default_pretrained=True,
                                  prog="cnnzoo evaluate")
    data = _data(args.data)
    compare = _compare_entries(args.compare or [])
    if args.calibration not in (None, "digits") and not Path(args.calibration).exists():
        raise CommandError(f"--calibration {args.calibration!r}: no such folder")
    options.set_threads(args.threads)
    from cnnzoo.deploy.evaluation import evaluate

    with options.default_weights_hint(source):
        report = evaluate(
            source.ref, data, backend=args.backend, top_k=args.top_k, compare=compare,
            pretrained=source.pretrained, batch_size=args.batch, bins=args.bins,
            num_mistakes=args.mistakes, calibration=args.calibration,
            latency=False if args.no_latency else None,
            latency_batch_sizes=args.latency_batches, progress=not args.json,
            report=args.report, ignore_index=args.ignore_index)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.table())
    if args.report:
        print(f"cnnzoo evaluate: wrote {Path(args.report) / 'report.html'}, report.md and "
              "metrics.json", file=sys.stderr if args.json else sys.stdout)
    failures = _gate(report, args.min_accuracy, args.max_drop)
    for failure in failures:
        print(f"cnnzoo evaluate: error: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a fraction between 0 and 1 (0.99 = 99 %), "
                                         f"got {text!r}")
    return value


def _ignore_index(text: str) -> int | None:
    if text.lower() == "none":
        return None
    try:
        return options.non_negative_int(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f"expected a mask value to skip (a whole number >= 0, e.g. 255) or 'none', "
            f"got {text!r}") from None


def register(sub: Subcommands) -> None:
    """Add ``evaluate`` to ``cnnzoo``'s subparsers."""
    p = sub.add_parser(
        "evaluate", help="accuracy, per-class scores, calibration; backends side by side",
        description="Evaluate a model on labelled data (the digits test split or a folder "
                    "with one sub-folder per class) through the same preprocessing as "
                    "predict: top-k accuracy, per-class precision/recall/F1, the confusion "
                    "matrix, calibration (ECE over 15 equal-width bins, NLL, Brier) and the "
                    "most confident mistakes; IoU/Dice for segmenters. --compare adds "
                    "backends side by side (accuracy, agreement, size, latency). A "
                    "registered name runs with its default pretrained weights.")
    options.add_model(p, "model name (NAME.TAG picks weights), saved folder, "
                         "hf-hub:ORG/REPO or model.onnx (FP32/INT8/FP16)")
    p.add_argument("--data", default="digits", metavar="digits|DIR",
                   help="'digits' (the 360 held-out digits) or a folder of class "
                        "sub-folders (default digits)")
    options.add_pretrained(p, random_weights=True)
    p.add_argument("--backend", choices=BACKENDS, default="auto",
                   help="run MODEL as given (auto), or a backend made from it: its ONNX/"
                        "INT8/FP16 export, eager bf16, OpenVINO (fastest verified "
                        "precision), OpenVINO bf16 or INT8 (the openvino extra)")
    p.add_argument("--compare", nargs="+", metavar="FILE",
                   help="backends to compare with MODEL: .onnx files, saved folders, names, "
                        "or backend names (made from MODEL, as for --backend)")
    p.add_argument("--calibration", default=None, metavar="digits|DIR",
                   help="calibration images for an int8 backend (default with --data "
                        "digits: the digits train split)")
    p.add_argument("--report", metavar="DIR",
                   help="write report.html (self-contained), report.md and metrics.json")
    p.add_argument("--top-k", type=options.positive_int_list, default=[1, 5], metavar="K1,K2",
                   help="top-k accuracies to report (default 1,5)")
    p.add_argument("--bins", type=options.positive_int, default=15, metavar="N",
                   help="equal-width confidence bins of the ECE (default 15)")
    p.add_argument("--mistakes", type=options.non_negative_int, default=8, metavar="N",
                   help="most confident mistakes to show (default 8)")
    options.add_batch(p, "images per forward pass (default 64)", many=False, default=64)
    p.add_argument("--latency-batches", type=options.positive_int_list, default=[1, 32],
                   metavar="B1,B2", help="batch sizes of the latency figures (default 1,32)")
    p.add_argument("--no-latency", action="store_true", help="skip the latency figures")
    p.add_argument("--ignore-index", type=_ignore_index, default=255, metavar="V|none",
                   help="segmenters: the mask value counted nowhere (default 255, VOC's); "
                        "'none' makes every value a class")
    p.add_argument("--min-accuracy", type=_fraction, default=None, metavar="FRACTION",
                   help="exit 1 when the accuracy is below it (0.99 = 99 %%)")
    p.add_argument("--max-drop", type=_fraction, default=None, metavar="FRACTION",
                   help="exit 1 when a compared backend loses more accuracy than this "
                        "(0.005 = half a point)")
    options.add_threads(p)
    options.add_json(p)
    p.set_defaults(func=cmd_evaluate)
