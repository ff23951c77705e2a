"""The Explanation: NumPy, overlays and PNG files."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnzoo
from tests.interpret.helpers import lenet

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


def test_explanation_overlay_save_and_numpy(tmp_path):
    model = lenet()
    x = torch.randn(3, 1, 32, 32)
    res = cnnzoo.explain(model, x, method="gradcam")
    assert res.maps.device == x.device and res.maps.dtype == torch.float32
    arr = res.to_numpy()
    assert arr.shape == (3, 32, 32) and arr.dtype == np.float32
    pix = res.overlay(x, mean=(0.5,), std=(0.5,))
    assert pix.shape == (3, 32, 32, 3) and pix.dtype == np.uint8
    big = res.overlay(torch.rand(3, 3, 96, 96), alpha=0.3)  # maps resized to the images
    assert big.shape == (3, 96, 96, 3)
    files = res.save(tmp_path / "cam.png", x)
    assert [f.name for f in files] == ["cam_0.png", "cam_1.png", "cam_2.png"]
    files = res.save(tmp_path / "heat")
    assert len(files) == 3 and all(f.stat().st_size > 0 for f in files)
    from PIL import Image

    assert Image.open(files[0]).size == (32, 32)
    assert "gradcam" in repr(res) and len(res) == 3

