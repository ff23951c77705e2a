"""Make the real report of the "Evaluate & compare" guide with cnnzoo itself.

Pretrained LeNet-5 (its weights ship with cnnzoo, no network needed), its ONNX export and
its INT8 model calibrated on the digits' train split, evaluated side by side on the 360
held-out digits. Writes the report's pictures and its self-contained ``report.html`` to
``docs/assets/evaluate/`` and prints the tables the guide shows; run it after changing the
evaluation code or its pictures::

    python docs/gen_evaluate_images.py
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import torch

import cnnzoo
from cnnzoo.deploy.export import to_onnx

OUT = Path(__file__).resolve().parent / "assets" / "evaluate"
PICTURES = ("comparison.png", "confusion.png", "reliability.png", "f1.png", "mistakes.png")
LIMIT = 100_000  # bytes per committed picture
REPORT_LIMIT = 400_000  # bytes of the committed report.html


def main() -> int:
    torch.set_num_threads(1)  # steady latencies on a shared machine
    OUT.mkdir(parents=True, exist_ok=True)
    model = cnnzoo.create("lenet5", pretrained=True)
    with tempfile.TemporaryDirectory(prefix="cnnzoo-evaluate-docs-") as tmp:
        fp32 = Path(tmp) / "lenet5.onnx"
        to_onnx(model, fp32)
        int8 = cnnzoo.quantize(fp32, calibration="digits", output=Path(tmp) / "lenet5.int8.onnx",
                               latency_batch_sizes=()).path
        report = cnnzoo.evaluate(model, "digits", compare=[fp32, int8], progress=False,
                                 report=Path(tmp) / "report")
        print(report.table())
        for name in (*PICTURES, "report.html"):
            shutil.copyfile(Path(tmp) / "report" / name, OUT / name)
    too_big = []
    for name in (*PICTURES, "report.html"):
        size = (OUT / name).stat().st_size
        print(f"{(OUT / name).relative_to(OUT.parents[1])}: {size / 1000:.1f} kB")
        if size > (REPORT_LIMIT if name == "report.html" else LIMIT):
            too_big.append(name)
    if too_big:
        print(f"too big: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
