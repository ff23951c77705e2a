"""Train every smp-compatible decoder briefly on the digits ink masks, quantize it to
INT8 and record FP32 vs INT8 mIoU.

Each decoder — Unet, Unet++, FPN, DeepLabV3+, PSPNet, Linknet — on a randomly
initialised ``--encoder`` (default ResNet-18) is trained as
``scripts/segmentation_digits.py`` trains it (:func:`cnnzoo.fit`, CE + Dice, the
library's digits split), but for ``--epochs`` (default 1), then exported with
:func:`cnnzoo.export.to_onnx` and quantized with :func:`cnnzoo.quantize`: static
INT8, calibrated on ``--num-calibration`` images of the digits train split, gated on
the mIoU of the digits test split's ink masks with ``--max-drop`` (default 0.01: one
point of mIoU) and the fallback ladder. The JSON records, per decoder, the FP32 and
INT8 mIoU of the ONNX models, the drop in points, every attempt of the ladder, the
sizes and the latency at batch 1.

Trained weights are kept in ``--cache`` (default a folder in the temp directory), so
a second run (``--train-only`` first, for instance) quantizes without training again;
``--update`` merges the decoders of this run into an existing ``--out`` file recorded
with the same settings.

Usage::

    python scripts/segmentation_int8.py --out bench/results/segmentation_int8.json
    python scripts/segmentation_int8.py --decoders fpn pspnet --epochs 1
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from segmentation_digits import add_training_options, train_model

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "bench" / "results" / \
    "segmentation_int8.json"
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "cnnzoo-segmentation-int8"


def trained(name: str, args: argparse.Namespace) -> tuple[Any, dict[str, Any]]:
    """The decoder trained as asked: from ``--cache`` when it was trained before."""
    import torch

    import cnnzoo

    key = f"{name}-{args.encoder}-{args.size}px-{args.epochs}ep-lr{args.lr}-seed{args.seed}"
    weights, record_file = args.cache / f"{key}.pt", args.cache / f"{key}.json"
    if weights.is_file() and record_file.is_file():
        model = cnnzoo.create(name, encoder=args.encoder, in_chans=1, num_classes=2)
        model.load_state_dict(torch.load(weights, weights_only=True))
        return model.eval(), json.loads(record_file.read_text())
    model, record = train_model(name, encoder=args.encoder, size=args.size, epochs=args.epochs,
                                lr=args.lr, batch_size=args.batch_size, seed=args.seed)
    args.cache.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), weights)
    record_file.write_text(json.dumps(record))
    return model.eval(), record


def quantize_one(model: Any, name: str, args: argparse.Namespace, workdir: Path
                 ) -> dict[str, Any]:
    """Export ``model``, quantize it with the mIoU gate and return what was measured."""
    import cnnzoo
    from cnnzoo.errors import AccuracyDropError

    onnx_path = workdir / f"{name}.onnx"
    cnnzoo.export.to_onnx(model, onnx_path, input_size=(1, args.size, args.size))
    start = time.perf_counter()
    try:
        report = cnnzoo.quantize(
            onnx_path, calibration="digits", num_calibration=args.num_calibration,
            eval_data="digits", max_accuracy_drop=args.max_drop,
            output=workdir / f"{name}.int8.onnx", latency_batch_sizes=(1,),
            latency_repeats=10).report
        accepted = True
    except AccuracyDropError as exc:
        report, accepted = exc.report, False
    before, after = report.metric_before, report.metric_after
    return {
        "metric": report.metric,
        "eval_samples": report.eval_samples,
        "fp32_miou": round(before, 4) if before is not None else None,
        "int8_miou": round(after, 4) if after is not None else None,
        "drop_points": round((before - after) * 100, 2) + 0.0  # no -0.0
        if before is not None and after is not None else None,
        "max_drop_points": args.max_drop * 100,
        "accepted": accepted,
        "configuration": report.attempts[-1].description if report.attempts else None,
        "attempts": [{"description": a.description,
                      "int8_miou": None if a.metric_after is None else round(a.metric_after, 4),
                      "drop_points": None if a.drop is None else round(a.drop * 100, 2) + 0.0,
                      "accepted": a.accepted} for a in report.attempts],
        "size_fp32_mb": round(report.size_before / 1e6, 2) if report.size_before else None,
        "size_int8_mb": round(report.size_after / 1e6, 2) if report.size_after else None,
        "latency_b1_fp32_ms": round(report.latency_before[1] * 1e3, 2)
        if 1 in report.latency_before else None,
        "latency_b1_int8_ms": round(report.latency_after[1] * 1e3, 2)
        if 1 in report.latency_after else None,
        "quantize_seconds": round(time.perf_counter() - start, 1),
    }


def table(result: dict[str, Any]) -> str:
    rows = [f"digits ink segmentation, {result['encoder']} encoder, {result['size']}×"
            f"{result['size']}, {result['epochs']} epoch(s); INT8 static, gate: mIoU drop ≤ "
            f"{result['max_drop_points']:.1f} pt", "",
            f"{'decoder':14} {'torch mIoU':>10} {'FP32 mIoU':>10} {'INT8 mIoU':>10} "
            f"{'drop pt':>8} {'attempts':>8}  result"]
    for name, r in result["results"].items():
        q = r["int8"]
        rows.append(f"{name:14} {r['train']['val_miou']:10.4f} {q['fp32_miou']:10.4f} "
                    f"{q['int8_miou']:10.4f} {q['drop_points']:8.2f} {len(q['attempts']):8d}  "
                    f"{'accepted' if q['accepted'] else 'REFUSED'}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_training_options(parser, epochs=1)
    parser.add_argument("--num-calibration", type=int, default=128)
    parser.add_argument("--max-drop", type=float, default=0.01,
                        help="the largest mIoU drop accepted, as a fraction (0.01 = 1 point)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help="where trained weights are kept between runs")
    parser.add_argument("--train-only", action="store_true",
                        help="train (and cache) the decoders, do not quantize")
    parser.add_argument("--out", type=Path, default=None, help="write the JSON here")
    parser.add_argument("--update", action="store_true",
                        help="merge into the existing --out file (same settings)")
    args = parser.parse_args(argv)

    import onnxruntime
    import torch

    import cnnzoo

    torch.set_num_threads(args.threads)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="cnnzoo-segmentation-int8-") as tmp:
        for name in args.decoders:
            model, record = trained(name, args)
            print(f"{name}: trained, test mIoU {record['val_miou']}", flush=True)
            if args.train_only:
                continue
            results[name] = {"train": record, "int8": quantize_one(model, name, args, Path(tmp))}
            q = results[name]["int8"]
            print(f"{name}: FP32 mIoU {q['fp32_miou']}, INT8 {q['int8_miou']} "
                  f"({q['drop_points']} pt, {len(q['attempts'])} attempt(s))", flush=True)
    if args.train_only:
        return 0
    result = {
        "task": "cnnzoo.data.digits_segmentation (ink vs background), test split",
        "encoder": args.encoder, "size": args.size, "epochs": args.epochs, "lr": args.lr,
        "batch_size": args.batch_size, "seed": args.seed, "threads": args.threads,
        "quantization": "int8-static (onnxruntime QDQ), calibration: digits train split",
        "num_calibration": args.num_calibration, "metric": "mIoU on the test split's masks",
        "max_drop_points": args.max_drop * 100,
        "all_accepted": True,
        "results": results,
        "cnnzoo": cnnzoo.__version__, "torch": torch.__version__,
        "onnxruntime": onnxruntime.__version__, "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    if args.update and args.out is not None and args.out.is_file():
        old = json.loads(args.out.read_text())
        settings = ("encoder", "size", "epochs", "lr", "batch_size", "seed",
                    "num_calibration", "max_drop_points")
        differ = [k for k in settings if old.get(k) != result[k]]
        if differ:
            parser.error(f"--update: {args.out} was recorded with other {', '.join(differ)}")
        result["results"] = {**old["results"], **results}
    result["all_accepted"] = all(r["int8"]["accepted"] for r in result["results"].values())
    print(table(result))
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"wrote {args.out}")
    return 0 if all(r["int8"]["accepted"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
