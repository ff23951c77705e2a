"""cnnzoo.explain(): every model, layer choice, the model left pristine, bad input, real digits."""

from __future__ import annotations

import pytest
import torch

import cnnzoo
from cnnzoo.errors import ExplainError
from cnnzoo.interpret import Target
from tests.helpers import materialize
from tests.interpret.helpers import assert_pristine, lenet, model_state, resnet18

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


# -- every registered model -------------------------------------------------------------------
@pytest.mark.exhaustive  # the default run explains one model per family (test_capabilities)
def test_every_registered_model_gets_an_auto_map():
    names = cnnzoo.list_models()
    assert {"lenet5", "unet", "tinynet", "resnet50"} <= set(names)
    for name in names:
        spec = cnnzoo.model_info(name)
        with torch.device("meta"):
            model = cnnzoo.create(name)
        materialize(model).eval()
        side = {"lenet5": 32, "inception_v3": 75}.get(name, 64)  # 64, or what the model needs
        x = torch.randn(2, spec.in_chans, side, side)
        res = cnnzoo.explain(model, x)
        assert res.layer == (spec.cam_layer or spec.feature_info[-1].module), name
        assert tuple(res.maps.shape) == (2, side, side), name
        assert torch.isfinite(res.maps).all() and torch.isfinite(res.scores).all(), name
        assert float(res.maps.min()) >= 0 and float(res.maps.max()) <= 1, name
        assert len(res.targets) == 2
        del model, res


def test_auto_layer_falls_back_to_the_last_feature_stage():
    model = resnet18()
    model.pretrained_cfg = {}  # no architecture: no spec to ask
    res = cnnzoo.explain(model, torch.randn(1, 3, 64, 64))
    assert res.layer == model.feature_info[-1]["module"] == "layer4"
    res = cnnzoo.explain(model, torch.randn(1, 3, 64, 64), layer=model.layer3)
    assert res.layer == "layer3"



# -- the model is left as it was -----------------------------------------------------------
@pytest.mark.parametrize("method", ["gradcam", "gradcam++", "layercam", "eigencam", "scorecam",
                                    "saliency", "integrated_gradients", "occlusion"])
def test_model_is_left_exactly_as_it_was(method):
    model = cnnzoo.create("tinynet").train()
    model.stem.eval()  # a mixed mode must survive, not become all-train
    for p in model.stem.parameters():
        p.requires_grad_(False)
    before = model_state(model)
    opts = {"steps": 8} if method == "integrated_gradients" else {}
    res = cnnzoo.explain(model, torch.randn(3, 3, 64, 64), method=method, **opts)
    assert tuple(res.maps.shape) == (3, 64, 64)
    assert_pristine(model, before)


def test_model_is_left_as_it_was_after_errors():
    model = resnet18().train()
    before = model_state(model)
    with pytest.raises(ExplainError, match="out of range"):
        cnnzoo.explain(model, torch.randn(2, 3, 64, 64), target=1000)  # fails after forward
    with pytest.raises(ExplainError, match="feature map"):
        cnnzoo.explain(model, torch.randn(2, 3, 64, 64), layer="fc")  # fails inside the hook
    assert_pristine(model, before)


def test_one_forward_and_the_backward_only_from_the_layer_on():
    model = resnet18()
    calls, grad_mode = [], {}
    hooks = [
        model.register_forward_pre_hook(lambda m, a: calls.append(a[0].shape[0])),
        model.conv1.register_forward_hook(
            lambda m, a, o: grad_mode.update(stem=torch.is_grad_enabled())),
        model.fc.register_forward_hook(
            lambda m, a, o: grad_mode.update(head=torch.is_grad_enabled())),
    ]
    try:
        cnnzoo.explain(model, torch.randn(5, 3, 64, 64), target=[1, 2, 3, 4, 5])
    finally:
        for h in hooks:
            h.remove()
    assert calls == [5]
    assert grad_mode == {"stem": False, "head": True}


def test_works_whatever_autograd_mode_the_caller_is_in():
    model = cnnzoo.create("tinynet").eval()
    x = torch.randn(2, 3, 64, 64)
    expected = cnnzoo.explain(model, x, method="gradcam").maps
    with torch.no_grad():
        torch.testing.assert_close(cnnzoo.explain(model, x, method="gradcam").maps, expected)
        assert cnnzoo.explain(model, x, method="saliency").maps.shape == (2, 64, 64)
        assert not torch.is_grad_enabled()
    with torch.inference_mode():
        torch.testing.assert_close(cnnzoo.explain(model, x.clone()).maps, expected)
    assert all(p.grad is None for p in model.parameters())



# -- bad input -------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    model = lenet()
    x = torch.randn(2, 1, 32, 32)
    with pytest.raises(ExplainError, match=r"\[B, C, H, W\].*unsqueeze\(0\)"):
        cnnzoo.explain(model, x[0])
    with pytest.raises(ExplainError, match="1-channel images; got 3"):
        cnnzoo.explain(model, torch.randn(2, 3, 32, 32))
    with pytest.raises(ExplainError, match="floating point"):
        cnnzoo.explain(model, torch.zeros(2, 1, 32, 32, dtype=torch.uint8))
    with pytest.raises(ExplainError, match=r"target class 10 is out of range.*10 classes \(0–9\)"):
        cnnzoo.explain(model, x, target=10)
    with pytest.raises(ExplainError, match="out of range"):
        cnnzoo.explain(model, x, target=[1, -1])
    with pytest.raises(ExplainError, match="3 entries but the batch has 2"):
        cnnzoo.explain(model, x, target=[1, 2, 3])
    with pytest.raises(ExplainError, match=r"unknown method 'gradcma'.*saliency.*"
                                           r"Did you mean: gradcam"):
        cnnzoo.explain(model, x, method="gradcma")
    with pytest.raises(ExplainError, match=r"no layer 'stage2'.*Did you mean: stage1"):
        cnnzoo.explain(model, x, layer="stage2")
    with pytest.raises(ExplainError, match=r"unknown option\(s\) step; it accepts: steps=64"):
        cnnzoo.explain(model, x, method="integrated_gradients", step=8)
    with pytest.raises(ExplainError, match="region mask only applies to a segmentation"):
        cnnzoo.explain(model, x, target=Target(1, torch.ones(32, 32)))
    with pytest.raises(ExplainError, match="layer= does not apply"):
        cnnzoo.explain(model, x, method="saliency", layer="stem")
    unet = cnnzoo.create("unet", num_classes=2, base_width=8).eval()
    with pytest.raises(ExplainError, match=r"must match the model's output resolution \(32, 32\)"):
        cnnzoo.explain(unet, torch.randn(1, 3, 32, 32), target=(1, torch.ones(16, 16)))



# -- real data: the digits -------------------------------------------------------------------
def test_on_real_digits_attributions_follow_the_ink():
    """Pretrained LeNet-5 on the held-out digits. Saliency and integrated gradients (from
    a blank image) put their mass on the strokes; Grad-CAM — coarse (5×5 tanh features)
    and not ink-bound on this net — must at least be faithful: erasing its top fifth of
    pixels hurts the class score more than erasing its bottom fifth."""
    from cnnzoo.data import digits

    model = lenet()
    x, y = digits(model=model).test.tensors
    x, y = x[:160], y[:160]
    ink = x[:, 0] > 0  # normalised: background is -1, strokes up to +1

    def on_ink(maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        inside = (maps * ink).sum((1, 2)) / ink.sum((1, 2))
        outside = (maps * ~ink).sum((1, 2)) / (~ink).sum((1, 2))
        return inside, outside

    sal = cnnzoo.explain(model, x, method="saliency", target=y)
    inside, outside = on_ink(sal.maps)
    assert inside.mean() > 1.3 * outside.mean()
    assert (inside > outside).float().mean() > 0.8
    ig = cnnzoo.explain(model, x, method="integrated_gradients", target=y, baseline=-1.0,
                        steps=16, internal_batch_size=320)
    inside, outside = on_ink(ig.maps)
    assert (inside > outside).float().mean() > 0.95

    cam = cnnzoo.explain(model, x, method="gradcam", target=y)
    with torch.no_grad():
        score = model(x).gather(1, y[:, None])[:, 0]
        flat = cam.maps.flatten(1)
        k = flat.shape[1] // 5

        def erased(idx: torch.Tensor) -> torch.Tensor:
            xx = x.clone().flatten(1).scatter_(1, idx, -1.0).view_as(x)
            return score - model(xx).gather(1, y[:, None])[:, 0]

        drop_top = erased(flat.topk(k, 1).indices)
        drop_bottom = erased((-flat).topk(k, 1).indices)
    assert drop_top.mean() > 1.2 * drop_bottom.mean()

