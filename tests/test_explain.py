"""cnnzoo.interpret: agreement with pytorch-grad-cam, completeness, every model, real digits.

References nobody here wrote: pytorch-grad-cam's GradCAM / GradCAMPlusPlus /
LayerCAM / XGradCAM / ScoreCAM / EigenCAM (and its SemanticSegmentationTarget),
finite differences, and scikit-learn's real handwritten digits.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import cnnzoo
from cnnzoo.errors import ExplainError
from cnnzoo.interpret import Target

from tests.helpers import materialize

ROOT = Path(__file__).resolve().parents[1]


# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


def _lenet():
    return cnnzoo.create("lenet5", pretrained=True).eval()


def _resnet18():
    torch.manual_seed(0)
    return cnnzoo.create("resnet18").eval()


def _state(model: torch.nn.Module) -> dict:
    return {
        "training": [m.training for m in model.modules()],
        "requires_grad": [p.requires_grad for p in model.parameters()],
        "state": {k: v.clone() for k, v in model.state_dict().items()},
    }


def _assert_pristine(model: torch.nn.Module, before: dict) -> None:
    for name, m in model.named_modules():
        for attr in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks",
                     "_backward_pre_hooks"):
            assert not getattr(m, attr, {}), f"{name or 'model'}.{attr} left behind"
    assert all(p.grad is None for p in model.parameters()), "a parameter got .grad"
    assert [m.training for m in model.modules()] == before["training"]
    assert [p.requires_grad for p in model.parameters()] == before["requires_grad"]
    after = model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in before["state"].items())


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
        model, x, layer = _resnet18(), torch.randn(4, 3, 64, 64), "layer4"
    else:
        model, x, layer = _lenet(), torch.randn(4, 1, 32, 32), "stage1"
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

    model, x = _lenet(), torch.randn(3, 1, 32, 32)
    ours = cnnzoo.explain(model, x, method="scorecam", target=[2, 5, 7], batch_size=10)
    with ScoreCAM(model, [model.stage1]) as cam:
        cam.batch_size = 16
        theirs = cam(x, [ClassifierOutputTarget(c) for c in (2, 5, 7)])
    assert np.abs(ours.to_numpy() - theirs).max() < 1e-4


def test_eigencam_matches_pytorch_grad_cam_up_to_the_svd_sign():
    from pytorch_grad_cam import EigenCAM

    model, x = _resnet18(), torch.randn(4, 3, 96, 96)
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
    model = _resnet18().double()
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

    model = _lenet()
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
    model = _lenet()
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


# -- every registered model -------------------------------------------------------------------
@pytest.mark.slow
def test_every_registered_model_gets_an_auto_map():
    names = cnnzoo.list_models()
    assert {"lenet5", "unet", "tinynet", "resnet50"} <= set(names)
    for name in names:
        spec = cnnzoo.model_info(name)
        with torch.device("meta"):
            model = cnnzoo.create(name)
        materialize(model).eval()
        side = 32 if name == "lenet5" else 64
        x = torch.randn(2, spec.in_chans, side, side)
        res = cnnzoo.explain(model, x)
        assert res.layer == (spec.cam_layer or spec.feature_info[-1].module), name
        assert tuple(res.maps.shape) == (2, side, side), name
        assert torch.isfinite(res.maps).all() and torch.isfinite(res.scores).all(), name
        assert float(res.maps.min()) >= 0 and float(res.maps.max()) <= 1, name
        assert len(res.targets) == 2
        del model, res


def test_auto_layer_falls_back_to_the_last_feature_stage():
    model = _resnet18()
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
    before = _state(model)
    opts = {"steps": 8} if method == "integrated_gradients" else {}
    res = cnnzoo.explain(model, torch.randn(3, 3, 64, 64), method=method, **opts)
    assert tuple(res.maps.shape) == (3, 64, 64)
    _assert_pristine(model, before)


def test_model_is_left_as_it_was_after_errors():
    model = _resnet18().train()
    before = _state(model)
    with pytest.raises(ExplainError, match="out of range"):
        cnnzoo.explain(model, torch.randn(2, 3, 64, 64), target=1000)  # fails after forward
    with pytest.raises(ExplainError, match="feature map"):
        cnnzoo.explain(model, torch.randn(2, 3, 64, 64), layer="fc")  # fails inside the hook
    _assert_pristine(model, before)


def test_one_forward_and_the_backward_only_from_the_layer_on():
    model = _resnet18()
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


# -- bad input -------------------------------------------------------------------------------
def test_bad_inputs_raise_clear_errors():
    model = _lenet()
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

    model = _lenet()
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


# -- the result object --------------------------------------------------------------------
def test_explanation_overlay_save_and_numpy(tmp_path):
    model = _lenet()
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
    for method in cnnzoo.explain.method_names():
        opts = {"steps": 4} if method == "integrated_gradients" else {}
        res = cnnzoo.explain(model, x, method=method, target=torch.tensor([2, 3]), **opts)
        assert tuple(res.maps.shape) == (2, 64, 64) and res.method == method
        assert float(res.maps.max()) <= 1 and float(res.maps.min()) >= 0
    with pytest.raises(ExplainError, match="batch_size must be a positive int"):
        cnnzoo.explain(model, x, method="scorecam", batch_size=0)


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


# -- views ------------------------------------------------------------------------------------
def test_views_draw_figures(tmp_path):
    pytest.importorskip("matplotlib")
    from cnnzoo.data import digits
    from cnnzoo.interpret import views

    model = _lenet()
    split = digits(model=model)
    x, y = split.test.tensors
    res = cnnzoo.explain(model, x[:4])
    figs = {
        "overlays": views.plot_overlays(res, x[:4], labels=model.pretrained_cfg["labels"],
                                        mean=(0.5,), std=(0.5,)),
        "compare": views.compare_methods(model, x[:2], ["gradcam", "saliency", "occlusion"],
                                         options={"occlusion": {"window": 8}}),
        "features": views.plot_feature_maps(model, x[0], ["stem", "stage1"], max_channels=6),
        "filters": views.plot_filters(model),
        "pca": views.plot_embeddings(model, (x[:120], y[:120]), method="pca"),
    }
    for name, fig in figs.items():
        fig.savefig(tmp_path / f"{name}.png", dpi=40)
        assert (tmp_path / f"{name}.png").stat().st_size > 0
    assert len(figs["compare"].axes) == 2 * 4
    feats, labels = views.embeddings(model, split.test, batch_size=100)
    assert feats.shape == (360, 84) and labels.shape == (360,)
    model.train()
    views.embeddings(model, x[:10])
    assert model.training
    with pytest.raises(ExplainError, match="unknown projection"):
        views.project(feats, "umap")


def test_views_without_matplotlib_say_how_to_get_it(monkeypatch):
    from cnnzoo.interpret import views

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ExplainError, match=r"pip install 'cnnzoo\[viz\]'"):
        views.plot_filters(_lenet())


# -- the package surface and the CLI -----------------------------------------------------
def test_importing_cnnzoo_stays_torch_free_and_explain_is_callable():
    code = ("import sys, cnnzoo; assert 'torch' not in sys.modules; "
            "import cnnzoo.interpret.views as v; import cnnzoo.interpret as m; "
            "assert callable(cnnzoo.explain) and cnnzoo.explain is m; print('ok')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=False, timeout=120)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr


def _digit_pngs(tmp_path: Path, n: int) -> list[str]:
    from PIL import Image

    from cnnzoo.data import digits

    images, labels = digits((1, 32, 32), normalize=False).test.tensors
    paths = []
    for i in range(n):
        path = tmp_path / f"digit{i}_{int(labels[i])}.png"
        Image.fromarray((images[i, 0] * 255).round().byte().numpy()).save(path)
        paths.append(str(path))
    return paths


def test_cli_writes_overlays_and_prints_top_classes(tmp_path, capsys):
    from cnnzoo.cli import main

    paths = _digit_pngs(tmp_path, 3)
    out = tmp_path / "out"
    code = main(["explain", "--model", "lenet5", "--pretrained", *paths, "--method",
                 "gradcam++", "--out", str(out), "--top", "3"])
    printed = capsys.readouterr().out
    assert code == 0
    pngs = sorted(p.name for p in out.iterdir())
    assert pngs == sorted(f"{Path(p).stem}_gradcampp.png" for p in paths)
    for path in paths:
        true = Path(path).stem.rsplit("_", 1)[1]
        line = next(ln for ln in printed.splitlines() if ln.startswith(path))
        assert re.match(rf"{re.escape(path)}: {true} 0\.\d+", line), line  # top-1 is right
    code = main(["explain", "--model", "lenet5.digits", paths[0], "--method", "saliency",
                 "--target", "4", "--out", str(out)])
    assert code == 0 and "saliency for class 4" in capsys.readouterr().out


def test_cli_errors_are_one_line_with_exit_2(tmp_path, capsys):
    from cnnzoo.cli import main

    paths = _digit_pngs(tmp_path, 1)
    assert main(["explain", "--model", "lenet5", str(tmp_path / "missing.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "image not found" in err
    assert main(["explain", "--model", "lenet5", paths[0], "--method", "gradcm"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown method 'gradcm'" in err and "gradcam++" in err
    assert main(["explain", "--model", "lenet5", paths[0], "--layer", "stage9"]) == 2
    assert "Did you mean: stage1" in capsys.readouterr().err


# -- the guide's code runs ----------------------------------------------------------------------
def test_the_guide_code_blocks_run(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    guide = (ROOT / "docs" / "guides" / "explain.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", guide, flags=re.DOTALL)
    assert len(blocks) >= 4
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, "explain.md", "exec"), namespace)


def test_docstring_examples_run():
    import doctest

    import cnnzoo.interpret.api
    import cnnzoo.interpret.targets
    import cnnzoo.interpret.views

    for module in (cnnzoo.explain, cnnzoo.explain.api, cnnzoo.explain.targets,
                   cnnzoo.explain.views):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted and not result.failed, module.__name__
