"""``cnnzoo export``, ``quantize``, ``predict`` and ``bench``: deployment subcommands.

Thin wrappers: parse, call :mod:`cnnzoo.export`, :mod:`cnnzoo.quantize`,
:mod:`cnnzoo.predict` or :mod:`cnnzoo.bench`, print the report. Nothing heavy is
imported until a command runs.
"""

from __future__ import annotations

import argparse
import json
from typing import Any


def _int_list(text: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}"
                                         ) from None
    if not values or any(v < 1 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers, got {text!r}")
    return values


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def cmd_export(args: argparse.Namespace) -> int:
    from cnnzoo.deploy.export import resolve_model, to_exported_program, to_onnx

    model = resolve_model(args.model, pretrained=args.pretrained)
    out = args.out
    if args.pt2:
        if out.endswith(".onnx"):
            out = out[: -len(".onnx")] + ".pt2"
        report = to_exported_program(model, out, input_size=args.input_size,
                                     dynamic_batch=not args.static_batch,
                                     verify=not args.no_verify)
    else:
        report = to_onnx(model, out, input_size=args.input_size, opset=args.opset,
                         dynamic_batch=not args.static_batch, verify=not args.no_verify)
    print(json.dumps(report.to_dict(), indent=2) if args.json else report.table())
    return 0


def cmd_quantize(args: argparse.Namespace) -> int:
    from cnnzoo.deploy.quantization import quantize

    per_channel = {"auto": "auto", "on": True, "off": False}[args.per_channel]
    result = quantize(
        args.model, method=args.method, calibration=args.calibration,
        num_calibration=args.num_calibration, per_channel=per_channel,
        calibrate_method=args.calibrate_method, max_accuracy_drop=args.max_accuracy_drop,
        eval_data=args.eval, num_eval=args.num_eval, output=args.out,
        fallback=not args.no_fallback, latency_batch_sizes=args.latency_batch,
        input_size=args.input_size, pretrained=args.pretrained,
    )
    print(json.dumps(result.report.to_dict(), indent=2) if args.json
          else result.report.table())
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from cnnzoo.cli import render_table
    from cnnzoo.deploy.predict import Predictor

    predictor = Predictor(args.model, pretrained=args.pretrained)
    results = predictor.predict(args.images, top_k=args.top_k)
    if args.json:
        print(json.dumps({"model": predictor.source, "backend": predictor.backend,
                          "predictions": [{"image": r.image, "top": [p.__dict__ for p in r.top]}
                                          for r in results]}, indent=2))
        return 0
    print(f"{predictor.source} ({predictor.backend})")
    for result in results:
        print(f"\n{result.image}")
        print(render_table(("rank", "class", "label", "score"),
                           [(i + 1, p.index, p.label, f"{p.score:.4f}")
                            for i, p in enumerate(result.top)]))
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from cnnzoo.deploy.bench import run

    result = run(args.model, backends=args.backends, batch_sizes=args.batch,
                 input_size=args.input_size, warmup=args.warmup, repeats=args.repeats,
                 rounds=args.rounds,
                 min_seconds=args.min_seconds, threads=args.threads,
                 pretrained=args.pretrained)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.table())
    return 0


def register(sub: Any) -> None:
    """Add the deployment subcommands to ``cnnzoo``'s subparsers."""
    p = sub.add_parser(
        "export", help="export a model to ONNX (or .pt2), verified against PyTorch",
        description="Export to ONNX with a dynamic batch axis, check it with onnx.checker and "
                    "compare onnxruntime with eager PyTorch on random and real inputs "
                    "(batch 1 and 3). The file is written only if it matches.")
    p.add_argument("model", help="model name or saved model folder")
    p.add_argument("--out", required=True, help="output file (model.onnx, or .pt2 with --pt2)")
    p.add_argument("--opset", type=int, default=18, help="ONNX opset (default 18)")
    p.add_argument("--input-size", type=int, nargs=3, metavar=("C", "H", "W"),
                   help="input size (default: the model's)")
    p.add_argument("--pt2", action="store_true",
                   help="write a torch.export program (.pt2) instead of ONNX")
    p.add_argument("--pretrained", action="store_true",
                   help="load the default pretrained weights (NAME.TAG picks a tag)")
    p.add_argument("--static-batch", action="store_true", help="fix the batch size")
    p.add_argument("--no-verify", action="store_true", help="skip checker and comparison")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser(
        "quantize", help="INT8 / FP16 ONNX model with a size, latency and accuracy report",
        description="Quantize with onnxruntime (static INT8 QDQ with calibration, dynamic "
                    "INT8, or FP16). With --max-accuracy-drop a model losing more is "
                    "repaired by fallbacks or refused, never written.")
    p.add_argument("model", help="model.onnx (exported by cnnzoo), model name or folder")
    p.add_argument("--method", choices=("int8-static", "int8-dynamic", "fp16"),
                   default="int8-static")
    p.add_argument("--calibration", default=None,
                   help="'digits' or a folder of images (needed by int8-static)")
    p.add_argument("--num-calibration", type=int, default=128)
    p.add_argument("--calibrate-method", choices=("auto", "minmax", "entropy", "percentile"),
                   default="auto")
    p.add_argument("--per-channel", choices=("auto", "on", "off"), default="auto")
    p.add_argument("--max-accuracy-drop", type=float, default=None, metavar="FRACTION",
                   help="e.g. 0.005 = half a point; refuse (after fallbacks) beyond it")
    p.add_argument("--eval", default=None,
                   help="'digits' (test split) or a folder of images to measure accuracy on")
    p.add_argument("--num-eval", type=int, default=None)
    p.add_argument("--no-fallback", action="store_true",
                   help="refuse at once when the accuracy drop is exceeded")
    p.add_argument("--latency-batch", type=_int_list, default=[1, 8], metavar="B1,B2",
                   help="batch sizes of the latency comparison (default 1,8)")
    p.add_argument("--input-size", type=int, nargs=3, metavar=("C", "H", "W"),
                   help="export input size when a model name is given")
    p.add_argument("--pretrained", action="store_true",
                   help="load the default pretrained weights (NAME.TAG picks a tag)")
    p.add_argument("--out", default=None, help="output .onnx (default: NAME.int8.onnx)")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(func=cmd_quantize)

    p = sub.add_parser(
        "predict", help="top-k classes of images on eager, ONNX or INT8 ONNX",
        description="Classify images with a model name/folder (eager PyTorch) or an .onnx "
                    "file (FP32/INT8/FP16); preprocessing is the same on every backend.")
    p.add_argument("--model", required=True, help="NAME, model folder or model.onnx")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("--top-k", type=int, default=5)
    p.add_argument("--pretrained", action="store_true",
                   help="load the default pretrained weights (NAME.TAG picks a tag)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser(
        "bench", help="latency, throughput and size on eager/compile/ONNX/INT8",
        description="Time a model on several backends and batch sizes (warm-up, then the "
                    "median of repeats); every figure has its ratio to eager PyTorch.")
    p.add_argument("model", help="model name or folder")
    p.add_argument("--backends", type=_names,
                   default=["eager", "channels_last", "compile", "onnx", "int8"],
                   help="comma-separated: eager,channels_last,compile,onnx,int8")
    p.add_argument("--batch", type=_int_list, default=[1, 8], help="e.g. 1,8")
    p.add_argument("--input-size", type=int, nargs=3, metavar=("C", "H", "W"))
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--repeats", type=int, default=10, help="timed runs per case")
    p.add_argument("--rounds", type=int, default=2,
                   help="interleaved rounds the repeats are spread over")
    p.add_argument("--min-seconds", type=float, default=0.0,
                   help="keep timing each case at least this long")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--pretrained", action="store_true",
                   help="load the default pretrained weights (NAME.TAG picks a tag)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_bench)
