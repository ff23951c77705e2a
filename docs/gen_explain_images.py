"""Draw the pictures of the Explain guide with cnnzoo itself.

Pretrained LeNet-5 (its weights ship with cnnzoo, no network needed) on held-out
digits of scikit-learn's real handwritten-digit set. Writes small PNGs to
``docs/assets/explain/``; run it after changing the explain code or its views::

    python docs/gen_explain_images.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

import cnnzoo
from cnnzoo.data import digits
from cnnzoo.interpret import views

OUT = Path(__file__).resolve().parent / "assets" / "explain"
DPI = 80
LIMIT = 100_000  # bytes per committed image


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    model = cnnzoo.create("lenet5", pretrained=True)
    cfg = model.pretrained_cfg
    images, labels = digits(model=model).test.tensors
    batch = images[:8]

    result = cnnzoo.explain(model, batch, method="gradcam")
    figures = {
        "gradcam.png": views.plot_overlays(result, batch, labels=cfg["labels"],
                                           mean=cfg["mean"], std=cfg["std"], cell=1.2),
        "methods.png": views.compare_methods(
            model, images[:3],
            ["gradcam", "gradcam++", "layercam", "scorecam", "eigencam", "saliency",
             "integrated_gradients", "occlusion"],
            options={"integrated_gradients": {"baseline": -1.0},
                     "occlusion": {"window": 6, "stride": 2, "baseline": -1.0}},
            cell=1.15),
        "feature_maps.png": views.plot_feature_maps(model, images[0], ["stem", "stage1"],
                                                    max_channels=8),
        "filters.png": views.plot_filters(model, cell=0.9),
        "embeddings.png": views.plot_embeddings(model, (images, labels), method="tsne"),
    }
    too_big = []
    for name, fig in figures.items():
        path = OUT / name
        fig.savefig(path, dpi=DPI)
        size = path.stat().st_size
        print(f"{path.relative_to(OUT.parents[1])}: {size / 1000:.1f} kB")
        if size > LIMIT:
            too_big.append(name)
    if too_big:
        print(f"over {LIMIT // 1000} kB: {', '.join(too_big)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
