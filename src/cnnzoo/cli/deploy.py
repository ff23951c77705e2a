"""``cnnzoo export``, ``quantize``, ``predict`` and ``bench``: deployment subcommands.

Thin wrappers: parse, call :mod:`cnnzoo.deploy.export`, :mod:`cnnzoo.deploy.quantization`,
:mod:`cnnzoo.deploy.predict` or :mod:`cnnzoo.deploy.bench`, print the report. Nothing
heavy is imported until a command runs.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from cnnzoo._utils import text_table
from cnnzoo.cli import options
from cnnzoo.errors import CommandError

if TYPE_CHECKING:
    from cnnzoo.cli.options import Subcommands

BENCH_BACKENDS = ("eager", "eager-bf16", "channels_last", "compile", "onnx", "int8", "openvino",
                  "openvino-bf16", "openvino-int8")
PREDICT_BACKENDS = ("auto", "eager", "onnx", "openvino")
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
PER_CHANNEL: dict[str, bool | str] = {"auto": "auto", "on": True, "off": False}


def cmd_export(args: argparse.Namespace) -> int:
    """``cnnzoo export MODEL --out FILE``: ONNX (or ``.pt2``), verified against PyTorch."""
    source = options.model_source(args.model, args.pretrained)
    options.set_threads(args.threads)
    from cnnzoo.deploy.export import resolve_model, to_exported_program, to_onnx

    model = resolve_model(source.ref, pretrained=source.pretrained)
    out = args.out
    if args.fastest:
        from cnnzoo.deploy.bench import export_fastest

        fastest = export_fastest(model, out, input_size=args.input_size, threads=args.threads)
        print(json.dumps(fastest.to_dict(), indent=2) if args.json else fastest.table())
        return 0
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
    """``cnnzoo quantize MODEL``: INT8/FP16 ONNX with a size, latency and accuracy report."""
    source = options.model_source(args.model, args.pretrained)
    options.set_threads(args.threads)
    from cnnzoo.deploy.quantization import quantize

    per_channel = PER_CHANNEL[args.per_channel]
    result = quantize(
        source.ref, method=args.method, calibration=args.calibration,
        num_calibration=args.num_calibration, per_channel=per_channel,
        calibrate_method=args.calibrate_method, max_accuracy_drop=args.max_accuracy_drop,
        eval_data=args.eval, num_eval=args.num_eval, output=args.out,
        fallback=not args.no_fallback, latency_batch_sizes=args.batch,
        input_size=args.input_size, pretrained=source.pretrained, engine=args.engine,
    )
    print(json.dumps(result.report.to_dict(), indent=2) if args.json
          else result.report.table())
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    """``cnnzoo predict MODEL IMAGE…``: the top-k classes of each image; with ``--out DIR``
    also a predictions.json and, for a segmenter, each image's mask and overlay PNG."""
    source = options.model_source(args.model, args.pretrained,
                                  random_weights=args.random_weights, default_pretrained=True,
                                  prog="cnnzoo predict")
    options.check_files(args.images, "image")
    overlay_flags = [flag for flag, given in (("--alpha", args.alpha is not None),
                                              ("--no-overlay", args.no_overlay)) if given]
    if overlay_flags and args.out is None:
        raise CommandError(f"{' and '.join(overlay_flags)} shape the overlays written with "
                           "--out DIR; add --out DIR")
    options.set_threads(args.threads)
    from cnnzoo.deploy.predict import PREDICTIONS_FILE, Predictor, output_folder

    folder = output_folder(args.out) if args.out is not None else None  # before the model
    with options.default_weights_hint(source):
        predictor = Predictor(source.ref, pretrained=source.pretrained, backend=args.backend,
                              precision=args.precision, threads=args.threads)
    segmentation = predictor.task == "segmentation"
    if overlay_flags and not segmentation:
        raise CommandError(f"{' and '.join(overlay_flags)} shape a segmenter's overlays; "
                           f"{args.model} is a {predictor.task} model (--out DIR writes its "
                           f"{PREDICTIONS_FILE} alone)")
    results = predictor.predict(args.images, top_k=args.top_k, out=folder, alpha=args.alpha,
                                overlay=not args.no_overlay)
    if args.json:
        print(json.dumps(predictor.to_dict(results), indent=2))
        return 0
    print(f"{predictor.source} ({predictor.backend}, {predictor.precision})")
    if folder is not None and segmentation:
        for result in results:
            classes = ", ".join(f"{p.label} {p.score:.1%}" for p in result.top)
            print(f"{result.image} -> {', '.join(result.files.values())}: {classes}")
    else:
        for result in results:
            print(f"\n{result.image}")
            print(text_table(("rank", "class", "label", "score"),
                             [(i + 1, p.index, p.label, f"{p.score:.4f}")
                              for i, p in enumerate(result.top)]))
    if folder is not None:
        print(f"wrote {folder / PREDICTIONS_FILE}")
    return 0


def _opacity(text: str) -> float:
    """``--alpha``: a number from 0 to 1."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


def cmd_bench(args: argparse.Namespace) -> int:
    """``cnnzoo bench MODEL``: latency, throughput and size on several backends."""
    source = options.model_source(args.model, args.pretrained)
    from cnnzoo.deploy.bench import run

    result = run(source.ref, backends=args.backends, batch_sizes=args.batch,
                 input_size=args.input_size, warmup=args.warmup, repeats=args.repeats,
                 rounds=args.rounds, min_seconds=args.min_seconds, threads=args.threads,
                 pretrained=source.pretrained, precision=args.precision)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.table())
    return 0


def _register_export(sub: Subcommands) -> None:
    p = sub.add_parser(
        "export", help="export a model to ONNX (or .pt2), verified against PyTorch",
        description="Export to ONNX with a dynamic batch axis, check it with onnx.checker and "
                    "compare onnxruntime with eager PyTorch on random and real inputs "
                    "(batch 1 and 3). The file is written only if it matches.")
    options.add_model(p, "model name (NAME.TAG picks weights), saved folder or "
                         "hf-hub:ORG/REPO")
    options.add_out(p, "output file (model.onnx, or .pt2 with --pt2)", required=True)
    options.add_pretrained(p)
    options.add_input_size(p)
    p.add_argument("--opset", type=options.positive_int, default=18,
                   help="ONNX opset (default 18)")
    p.add_argument("--pt2", action="store_true",
                   help="write a torch.export program (.pt2) instead of ONNX")
    p.add_argument("--static-batch", action="store_true", help="fix the batch size")
    p.add_argument("--no-verify", action="store_true", help="skip checker and comparison")
    p.add_argument("--fastest", action="store_true",
                   help="benchmark every backend x precision this machine runs (batch 1), "
                        "write the fastest verified one's artefact and its JSON report beside "
                        "it")
    options.add_threads(p)
    options.add_json(p)
    p.set_defaults(func=cmd_export)


def _register_quantize(sub: Subcommands) -> None:
    p = sub.add_parser(
        "quantize", help="INT8 / FP16 ONNX model with a size, latency and accuracy report",
        description="Quantize with onnxruntime (static INT8 QDQ with calibration, dynamic "
                    "INT8, or FP16). With --max-accuracy-drop a model losing more is "
                    "repaired by fallbacks or refused, never written.")
    options.add_model(p, "model.onnx (exported by cnnzoo), model name or saved folder")
    options.add_out(p, "output .onnx (default: NAME.int8.onnx)")
    options.add_pretrained(p)
    options.add_input_size(p, help="export input size when MODEL is not an .onnx file: "
                                   "C H W, H W or one side PX (default: the model's)")
    p.add_argument("--method", choices=("int8-static", "int8-dynamic", "fp16"),
                   default="int8-static")
    p.add_argument("--calibration", default=None, metavar="digits|DIR",
                   help="'digits' or a folder of images (needed by int8-static)")
    p.add_argument("--num-calibration", type=options.positive_int, default=128, metavar="N")
    p.add_argument("--calibrate-method", choices=("auto", "minmax", "entropy", "percentile"),
                   default="auto")
    p.add_argument("--per-channel", choices=tuple(PER_CHANNEL), default="auto")
    p.add_argument("--max-accuracy-drop", type=float, default=None, metavar="FRACTION",
                   help="e.g. 0.005 = half a point; refuse (after fallbacks) beyond it")
    p.add_argument("--eval", default=None, metavar="digits|DIR",
                   help="'digits' (test split) or a folder of images to measure accuracy on")
    p.add_argument("--num-eval", type=options.positive_int, default=None, metavar="N")
    p.add_argument("--no-fallback", action="store_true",
                   help="refuse at once when the accuracy drop is exceeded")
    p.add_argument("--engine", choices=("onnxruntime", "nncf"), default="onnxruntime",
                   help="the int8-static quantizer (nncf: pip install \"cnnzoo[openvino]\")")
    options.add_batch(p, "batch sizes of the latency comparison (default 1,8)", many=True,
                      default=[1, 8], deprecated="--latency-batch")
    options.add_threads(p)
    options.add_json(p)
    p.set_defaults(func=cmd_quantize)


def _register_predict(sub: Subcommands) -> None:
    p = sub.add_parser(
        "predict", help="top-k classes (or a segmenter's masks) of images on eager, ONNX "
                        "or INT8 ONNX",
        description="Classify images with a model name/folder (eager PyTorch) or an .onnx "
                    "file (FP32/INT8/FP16); preprocessing is the same on every backend. A "
                    "registered name runs with its default pretrained weights unless "
                    "--pretrained picks others or --random-weights is given. With --out "
                    "DIR the predictions go to DIR/predictions.json; a segmenter also "
                    "writes IMAGE-STEM.mask.png (palette PNG: pixel value = class id, VOC "
                    "colours) and IMAGE-STEM.overlay.png (the image with the mask blended "
                    "in, class 0 left uncoloured) at each image's size, and prints one "
                    "line per image. Files of the same name are replaced.")
    options.add_model(p, "model name (NAME.TAG picks weights), saved folder, "
                         "hf-hub:ORG/REPO or model.onnx")
    options.add_images(p)
    options.add_pretrained(p, random_weights=True)
    options.add_top_k(p)
    p.add_argument("--backend", choices=PREDICT_BACKENDS, default="auto",
                   help="auto (eager for a model, onnxruntime for an .onnx file), eager, onnx "
                        "or openvino (pip install \"cnnzoo[openvino]\")")
    p.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="eager: fp32 (auto) or bf16 (torch.autocast); openvino: the fastest "
                        "verified (auto), fp32, bf16 or fp16; bf16/fp16 only where the "
                        "hardware runs them natively")
    options.add_out(p, "folder to write predictions.json (and a segmenter's masks and "
                       "overlays) into; created if missing")
    p.add_argument("--alpha", type=_opacity, default=None, metavar="A",
                   help="segmenters: the overlays' mask opacity, 0-1 (default 0.5)")
    p.add_argument("--no-overlay", action="store_true",
                   help="segmenters: write the masks without overlays")
    options.add_threads(p)
    options.add_json(p)
    p.set_defaults(func=cmd_predict)


def _register_bench(sub: Subcommands) -> None:
    p = sub.add_parser(
        "bench", help="latency, throughput and size on eager/compile/ONNX/INT8/OpenVINO",
        description="Time a model on several backends and batch sizes (warm-up, then the "
                    "median of repeats); every figure has its ratio to eager PyTorch, and "
                    "every backend is verified against eager fp32 before it can be the "
                    "fastest.")
    options.add_model(p, "model name (NAME.TAG picks weights), saved folder or "
                         "hf-hub:ORG/REPO")
    options.add_pretrained(p)
    options.add_input_size(p)
    p.add_argument("--backends", type=options.name_list, default=None,
                   metavar="B1,B2", help=f"comma-separated: {','.join(BENCH_BACKENDS)} "
                                         "(default: every one this machine runs)")
    p.add_argument("--precision", choices=("fp32", "bf16", "int8"), default=None,
                   help="only the backends of this precision")
    options.add_batch(p, "batch sizes, e.g. 1,8 (default 1,8)", many=True, default=[1, 8])
    p.add_argument("--warmup", type=options.non_negative_int, default=3, metavar="N",
                   help="untimed runs first (default 3)")
    p.add_argument("--repeats", type=options.positive_int, default=10, metavar="N",
                   help="timed runs per case (default 10)")
    p.add_argument("--rounds", type=options.positive_int, default=2, metavar="N",
                   help="interleaved rounds the repeats are spread over (default 2)")
    p.add_argument("--min-seconds", type=float, default=0.0, metavar="S",
                   help="keep timing each case at least this long")
    options.add_threads(p)
    options.add_json(p)
    p.set_defaults(func=cmd_bench)


def register(sub: Subcommands) -> None:
    """Add ``export``, ``quantize``, ``predict`` and ``bench`` to ``cnnzoo``'s subparsers."""
    _register_export(sub)
    _register_quantize(sub)
    _register_predict(sub)
    _register_bench(sub)
