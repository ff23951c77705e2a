"""The methods against references nobody here wrote.

pytorch-grad-cam's GradCAM / GradCAMPlusPlus / LayerCAM / XGradCAM / ScoreCAM /
EigenCAM (and its SemanticSegmentationTarget), finite differences, the
completeness of integrated gradients; every method's options.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import cnnzoo
from cnnzoo.errors import ExplainError
from cnnzoo.interpret import Target
from tests.interpret.helpers import lenet, resnet18

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


# -- agreement with pytorch-grad-cam -------------------------------------------------------
# pytorch-grad-cam computes the CAM at the layer's resolution, applies ReLU, scales
# each image with (x - min) / (1e-7 + max), resizes with cv2.resize (bilinear,
# half-pixel centres) and scales again. cnnzoo does exactly that in torch
# (F.interpolate(align_corners=False) equals cv2's float bilinear resize to ~1e-7),
# so the maps are compared at the *input* resolution, where users see them: a
# deviation in any step — weights, ReLU, scaling or resize — would show.
REFERENCES = {
    "gradcam": "GradCAM",
    "gradcam++": "GradCAMPlusPlus",
    "layercam": "LayerCAM",
    "xgradcam": "XGradCAM",
}


@pytest.mark.parametrize("method", list(REFERENCES))
@pytest.mark.parametrize("arch", ["resnet18", "lenet5"])
@pytest.mark.parametrize("explicit", [False, True], ids=["predicted", "given"])
def test_gradient_cams_match_pytorch_grad_cam(method, arch, explicit):
    gc = pytest.importorskip("pytorch_grad_cam")
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    if arch == "resnet18":
        model, x, layer = resnet18(), torch.randn(4, 3, 64, 64), "layer4"
    else:
        model, x, layer = lenet(), torch.randn(4, 1, 32, 32), "stage1"
    classes = [3, 1, 4, 1] if explicit else None
    ours = cnnzoo.explain(model, x, method=method, target=classes)
    assert ours.layer == layer  # layer="auto" picks the spec's cam_layer
    with getattr(gc, REFERENCES[method])(model, [model.get_submodule(layer)]) as cam:
        ref_targets = None if classes is None else [ClassifierOutputTarget(c) for c in classes]
        theirs = cam(x, ref_targets)
    diff = float(np.abs(ours.to_numpy() - theirs).max())
    assert theirs.shape == tuple(ours.maps.shape)
    assert diff < 1e-4, f"{method} on {arch}: max abs diff {diff:.2e}"
    if not explicit:
        assert ours.targets.tolist() == model(x).argmax(1).tolist()


def test_scorecam_matches_pytorch_grad_cam():
    from pytorch_grad_cam import ScoreCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    model, x = lenet(), torch.randn(3, 1, 32, 32)
    ours = cnnzoo.explain(model, x, method="scorecam", target=[2, 5, 7], batch_size=10)
    with ScoreCAM(model, [model.stage1]) as cam:
        cam.batch_size = 16
        theirs = cam(x, [ClassifierOutputTarget(c) for c in (2, 5, 7)])
    assert np.abs(ours.to_numpy() - theirs).max() < 1e-4


def test_eigencam_matches_pytorch_grad_cam_up_to_the_svd_sign():
    from pytorch_grad_cam import EigenCAM

    model, x = resnet18(), torch.randn(4, 3, 96, 96)
    ours = cnnzoo.explain(model, x, method="eigencam").to_numpy()
    with EigenCAM(model, [model.layer4]) as cam:
        theirs = cam(x, None)
    acts = {}
    handle = model.layer4.register_forward_hook(lambda m, a, o: acts.update(a=o.clone()))
    with torch.no_grad():
        model(x)
    handle.remove()
    # cnnzoo picks the sign that correlates with the channel sum; pytorch-grad-cam keeps
    # whatever the SVD returns. Where its sign agrees, the maps must agree.
    total = acts["a"].sum(1).flatten(1)
    for i in range(len(x)):
        theirs_t = torch.from_numpy(theirs[i]).flatten()
        same_sign = torch.corrcoef(torch.stack([theirs_t, torch.nn.functional.interpolate(
            total[i].view(1, 1, 3, 3), size=(96, 96), mode="bilinear").flatten()]))[0, 1] > 0
        if same_sign:
            assert np.abs(ours[i] - theirs[i]).max() < 1e-4


def test_segmentation_region_target_matches_pytorch_grad_cam():
    """A UNet with a mask target explains that class over that region only."""
    from pytorch_grad_cam import GradCAM, LayerCAM
    from pytorch_grad_cam.utils.model_targets import SemanticSegmentationTarget

    torch.manual_seed(0)
    model = cnnzoo.create("unet", num_classes=3).eval()
    x = torch.randn(2, 3, 64, 64)
    mask = torch.zeros(64, 64, dtype=torch.bool)
    mask[8:24, 40:60] = True
    with torch.no_grad():
        logits = model(x)
    for method, ref_cls in (("gradcam", GradCAM), ("layercam", LayerCAM)):
        ours = cnnzoo.explain(model, x, method=method, target=Target(1, mask))
        assert ours.layer == "decoder"
        expected = (logits[:, 1] * mask).sum((1, 2))
        torch.testing.assert_close(ours.scores, expected, rtol=1e-5, atol=1e-4)
        with ref_cls(model, [model.decoder]) as cam:
            theirs = cam(x, [SemanticSegmentationTarget(1, mask.numpy().astype(np.float32))] * 2)
        assert np.abs(ours.to_numpy() - theirs).max() < 1e-4
        model.zero_grad(set_to_none=True)
    # The decoder output is at input resolution and the head is a 1×1 conv, so the
    # gradient — hence LayerCAM — is zero outside the region: only the region explains.
    region = cnnzoo.explain(model, x, method="layercam", target=(1, mask))
    assert float(region.raw[:, ~mask].abs().max()) == 0.0
    assert float(region.raw[:, mask].max()) > 0.0
    other = cnnzoo.explain(model, x, method="layercam", target=(2, mask))
    assert not torch.allclose(region.raw, other.raw)
    # None: the class predicted at most pixels, over the pixels where it is predicted
    auto = cnnzoo.explain(model, x)
    pred = logits.argmax(1)
    for i in range(len(x)):
        cls = int(torch.bincount(pred[i].flatten(), minlength=3).argmax())
        assert int(auto.targets[i]) == cls
        torch.testing.assert_close(auto.scores[i], logits[i, cls][pred[i] == cls].sum(),
                                   rtol=1e-5, atol=1e-4)



# -- gradients through in-place ops: finite differences ------------------------------------
@pytest.mark.parametrize("layer", ["layer1.0.bn1", "layer1.0.bn2"])
def test_gradients_survive_in_place_ops_downstream(layer):
    """bn1's output is ReLU'd in place, bn2's gets ``x += shortcut``: Grad-CAM's channel
    weights must still be the true gradients (checked by central differences, float64)."""
    model = resnet18().double()
    x = torch.randn(1, 3, 32, 32, dtype=torch.float64)
    ours = cnnzoo.explain(model, x, method="gradcam", target=3, layer=layer)
    module = model.get_submodule(layer)
    seen = {}
    h = module.register_forward_hook(lambda m, a, o: seen.update(a=o.detach().clone()))
    with torch.no_grad():
        model(x)
    h.remove()
    acts = seen["a"][0]  # [C, h, w]
    c, hh, ww = acts.shape
    eps = 1e-6
    shift = torch.zeros(2 * c, c, 1, 1, dtype=torch.float64)
    shift[torch.arange(c), torch.arange(c)] = eps
    shift[c + torch.arange(c), torch.arange(c)] = -eps
    h = module.register_forward_hook(lambda m, a, o: o + shift)
    with torch.no_grad():
        out = model(x.expand(2 * c, -1, -1, -1))[:, 3]
    h.remove()
    mean_grad = (out[:c] - out[c:]) / (2 * eps) / (hh * ww)  # d score / d channel, per pixel
    reference = (mean_grad.view(c, 1, 1) * acts).sum(0).clamp_min(0)
    torch.testing.assert_close(ours.raw[0], reference, rtol=1e-5, atol=1e-7)
    assert all(p.grad is None for p in model.parameters())



# -- integrated gradients ---------------------------------------------------------------------
@pytest.mark.parametrize("baseline", [0.0, -1.0])
def test_integrated_gradients_completeness(baseline):
    from cnnzoo.data import digits

    model = lenet()
    x = digits(model=model).test.tensors[0][:6]
    res = cnnzoo.explain(model, x, method="integrated_gradients", steps=64, baseline=baseline)
    with torch.no_grad():
        fx = model(x).gather(1, res.targets[:, None])[:, 0]
        fb = model(torch.full_like(x, baseline)).gather(1, res.targets[:, None])[:, 0]
    total = res.attributions.flatten(1).sum(1)
    rel = ((total - (fx - fb)).abs() / (fx - fb).abs()).max()
    assert rel < 1e-3, f"completeness off by {rel:.2e}"  # Gauss–Legendre, 64 steps: ~1e-6
    torch.testing.assert_close(res.extras["delta"], total - (fx - fb), rtol=0, atol=1e-4)


def test_integrated_gradients_memory_is_bounded_by_the_internal_batch():
    model = lenet()
    x = torch.randn(3, 1, 32, 32)
    sizes = []
    h = model.register_forward_pre_hook(lambda m, a: sizes.append(a[0].shape[0]))
    try:
        small = cnnzoo.explain(model, x, method="integrated_gradients", steps=20,
                               internal_batch_size=7)
    finally:
        h.remove()
    assert max(sizes) <= 7
    big = cnnzoo.explain(model, x, method="integrated_gradients", steps=20,
                         internal_batch_size=60)
    torch.testing.assert_close(small.attributions, big.attributions, rtol=1e-4, atol=1e-6)



# -- every method and its options -------------------------------------------------------------
def test_other_methods_and_options():
    model = cnnzoo.create("tinynet").eval()
    x = torch.randn(2, 3, 64, 64)
    sizes = []
    h = model.register_forward_pre_hook(lambda m, a: sizes.append(a[0].shape[0]))
    try:
        res = cnnzoo.explain(model, x, method="scorecam", batch_size=24)  # 2 × 64 channels
    finally:
        h.remove()
    assert sizes[0] == 2 and max(sizes[1:]) <= 24 and sum(sizes[1:]) == 2 * 64
    occ = cnnzoo.explain(model, x, method="occlusion", window=16, stride=8, target=[0, 1])
    assert occ.attributions.shape == (2, 1, 64, 64) and occ.targets.tolist() == [0, 1]
    for method in cnnzoo.interpret.method_names():
        opts = {"steps": 4} if method == "integrated_gradients" else {}
        res = cnnzoo.explain(model, x, method=method, target=torch.tensor([2, 3]), **opts)
        assert tuple(res.maps.shape) == (2, 64, 64) and res.method == method
        assert float(res.maps.max()) <= 1 and float(res.maps.min()) >= 0
    with pytest.raises(ExplainError, match="batch_size must be a positive int"):
        cnnzoo.explain(model, x, method="scorecam", batch_size=0)

