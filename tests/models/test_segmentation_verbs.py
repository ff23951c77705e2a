"""The verbs on the segmentation zoo: new heads, ONNX export with dynamic H/W, regions.

One torchvision segmenter (LR-ASPP, the smallest) and one smp decoder (FPN on
ResNet-18, to keep the export light) go through ``replace_head``,
:func:`cnnzoo.deploy.export.to_onnx` (checked by onnxruntime at two input sizes)
and :func:`cnnzoo.explain` with a region target.
"""

from __future__ import annotations

import os

import numpy as np
import onnxruntime as ort
import pytest
import torch

import cnnzoo
from cnnzoo.build.heads import SegmentationHead, replace_head
from cnnzoo.deploy.export import to_onnx
from cnnzoo.interpret import Target

pytestmark = pytest.mark.usefixtures("one_thread")

MODELS = {
    "lraspp_mobilenet_v3_large": {},
    "fpn": {"encoder": "resnet18"},
}


def _model(name: str, **kwargs) -> torch.nn.Module:
    torch.manual_seed(0)
    return cnnzoo.create(name, **MODELS[name], **kwargs).eval()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_replace_head_to_a_new_class_count(name):
    model = _model(name)
    x = torch.randn(1, 3, 64, 64)
    replace_head(model, 5)
    assert model.num_classes == 5 and model.pretrained_cfg["num_classes"] == 5
    with torch.no_grad():
        assert model(x).shape == (1, 5, 64, 64)
    replace_head(model, 4, "mlp:16,dropout=0.1")
    assert isinstance(model.get_classifier(), SegmentationHead)
    model.eval()  # the new head is built in train mode
    with torch.no_grad():
        out = model(x)
        torch.testing.assert_close(model.forward_head(model.forward_features(x)), out)
    assert out.shape == (1, 4, 64, 64)
    assert model.pretrained_cfg["head"]["hidden"] == [16]


def test_replace_head_follows_the_aux_head():
    with torch.device("meta"):
        model = cnnzoo.create("deeplabv3_mobilenet_v3_large", aux_loss=True)
    replace_head(model, 3, "mlp:8")
    assert isinstance(model.classifier[4], SegmentationHead)
    assert model.aux_classifier[4].out_channels == 3


# LR-ASPP's export takes minutes on two busy cores and tests/deploy already exports it
# (the lraspp family's representative, dynamic axes checked) in the default run: its
# two-size check here is in the exhaustive tier.
EXHAUSTIVE = (pytest.mark.exhaustive,
              pytest.mark.skipif(os.environ.get("CNNZOO_EXHAUSTIVE") != "1",
                                 reason="exhaustive tier: run scripts/run_exhaustive.py"))


@pytest.mark.parametrize("name", [
    "fpn", pytest.param("lraspp_mobilenet_v3_large", marks=EXHAUSTIVE)])
def test_onnx_export_with_dynamic_height_and_width(name, tmp_path):
    model = _model(name, num_classes=3)
    path = tmp_path / f"{name}.onnx"
    # verified here, at two sizes, rather than by to_onnx at one (tests/deploy does that)
    report = to_onnx(model, path, input_size=(3, 64, 64), verify=False)
    assert report.task == "segmentation"
    assert {"2", "3"} <= set(report.dynamic_axes), report.notes
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name_in = session.get_inputs()[0].name
    for h, w in ((64, 64), (96, 128)):  # two sizes, both multiples of the stride
        x = torch.randn(2, 3, h, w)
        (got,) = session.run(None, {name_in: x.numpy()})
        with torch.no_grad():
            expected = model(x).numpy()
        assert got.shape == (2, 3, h, w)
        assert np.abs(got - expected).max() <= 1e-4 + 1e-4 * np.abs(expected).max()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_explain_a_region(name):
    model = _model(name, num_classes=2)
    x = torch.randn(1, 3, 64, 64)
    top = torch.zeros(64, 64, dtype=torch.bool)
    top[:32] = True
    res = cnnzoo.explain(model, x, target=Target(1, top))
    assert tuple(res.maps.shape) == (1, 64, 64) and res.targets.tolist() == [1]
    assert torch.isfinite(res.maps).all() and 0 <= float(res.maps.min()) <= float(
        res.maps.max()) <= 1
    bottom = cnnzoo.explain(model, x, target=(1, ~top))
    whole = cnnzoo.explain(model, x, target=1)
    # the region is what is explained: the scores are the class's logits over it
    with torch.no_grad():
        logits = model(x)[0, 1]
    torch.testing.assert_close(res.scores, logits[top].sum().reshape(1), rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(res.scores + bottom.scores, whole.scores, rtol=1e-4, atol=1e-3)
    assert res.layer == cnnzoo.model_info(name).cam_layer



def test_pyramid_pooling_exports_right_at_every_size(tmp_path):
    """PSPNet's adaptive pooling: the ONNX exporter bakes its windows for the traced size
    (wrong, or an error, at any other), so under torch.export it runs as matrices of the
    dynamic size; eager keeps smp's op."""
    from torch.export import Dim

    from cnnzoo.models.smp_decoders import PSPModule, adaptive_avg_pool

    for h, w in ((8, 8), (12, 16), (7, 9)):
        x = torch.randn(2, 4, h, w)
        for size in (1, 2, 3, 6):
            torch.testing.assert_close(adaptive_avg_pool(x, size),
                                       torch.nn.functional.adaptive_avg_pool2d(x, size))
    module = PSPModule(32).eval()
    dims = {"x": {2: 8 * Dim("h", min=1, max=32), 3: 8 * Dim("w", min=1, max=32)}}
    example = (torch.randn(1, 32, 16, 24),)  # not 8x8: a dim of size 1 would specialise
    path = tmp_path / "psp.onnx"
    torch.onnx.export(module, example, str(path), dynamo=True, dynamic_shapes=dims,
                      input_names=["x"])
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        for h, w in ((16, 24), (24, 8), (40, 16)):
            x = torch.randn(1, 32, h, w)
            (got,) = session.run(None, {"x": x.numpy()})
            np.testing.assert_allclose(got, module(x).numpy(), rtol=1e-5, atol=1e-5)
