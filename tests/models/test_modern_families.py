"""SqueezeNet, ShuffleNetV2, MNASNet, EfficientNet-Lite, ConvNeXt V2 and MobileNetV4.

References nobody here wrote: torchvision's ``weights.meta`` (parameter counts, accuracies)
and ``transforms()``, torchvision's outputs under the same weights, and timm's own models
for the timm-only families. Counts, MACs and stage coverage are measured on the ``meta``
device (no compute); only the parity and feature tests run real, small forwards.
"""

from __future__ import annotations

import warnings

import pytest
import timm
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import cnnzoo
from cnnzoo.catalog import _pretrained
from cnnzoo.models.base import ZooModel
from cnnzoo.models.timm_modern import convert_torchvision_mnasnet

pytestmark = pytest.mark.usefixtures("one_thread")

# cnnzoo name -> torchvision name (the reference for counts and parity)
TORCHVISION = {
    "squeezenet1_0": "squeezenet1_0", "squeezenet1_1": "squeezenet1_1",
    **{f"shufflenet_v2_{s}": f"shufflenet_v2_{s}" for s in ("x0_5", "x1_0", "x1_5", "x2_0")},
    "mnasnet_050": "mnasnet0_5", "mnasnet_075": "mnasnet0_75", "mnasnet_100": "mnasnet1_0",
    "mnasnet_130": "mnasnet1_3",
}
# cnnzoo name -> timm architecture (the reference for the timm-only families)
TIMM = {
    "efficientnet_lite0": "efficientnet_lite0",
    **{f"tf_efficientnet_lite{i}": f"tf_efficientnet_lite{i}" for i in range(5)},
    **{f"convnextv2_{s}": f"convnextv2_{s}"
       for s in ("atto", "femto", "pico", "nano", "tiny", "base", "large")},
    **{f"mobilenetv4_conv_{s}": f"mobilenetv4_conv_{s}"
       for s in ("small", "medium", "large", "blur_medium", "aa_large")},
}
NAMES = sorted(TORCHVISION) + sorted(TIMM)
FAMILIES = {"squeezenet", "shufflenet", "mnasnet", "efficientnet_lite", "convnextv2",
            "mobilenetv4"}
# One model per family for the feature test (the cheapest).
FEATURE_MODELS = ("squeezenet1_0", "squeezenet1_1", "shufflenet_v2_x0_5", "mnasnet_050",
                  "efficientnet_lite0", "tf_efficientnet_lite0", "convnextv2_atto",
                  "mobilenetv4_conv_small")


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def on_meta(name: str, **kwargs) -> nn.Module:
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cnnzoo.create(name, **kwargs)


def tv_weights(name: str):
    return torchvision.models.get_model_weights(name).IMAGENET1K_V1


def randomize(model: nn.Module) -> nn.Module:
    """Random weights and BatchNorm statistics, so parity tests more than the init."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.running_mean.normal_(0.0, 0.2)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.normal_(1.0, 0.2)
                module.bias.normal_(0.0, 0.2)
    return model.eval()


# -- the registry --------------------------------------------------------------------
def test_all_families_are_registered():
    found = {cnnzoo.model_info(n).family for n in NAMES}
    assert found == FAMILIES
    for name, tv_name in TORCHVISION.items():
        assert cnnzoo.model_info(tv_name).name == name  # torchvision's spelling is an alias


# -- parameter counts, MACs, stages (meta device) ------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_count_gmacs_and_stages(name):
    spec = cnnzoo.model_info(name)
    model = on_meta(name).eval()
    if name in TORCHVISION:
        reference = tv_weights(TORCHVISION[name]).meta["num_params"]
    else:
        with torch.device("meta"):
            reference = n_params(timm.create_model(TIMM[name]))
    assert n_params(model) == reference == spec.num_params

    with torch.device("meta"):
        x = torch.zeros(1, *spec.input_size)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(x)
    gmacs = counter.get_total_flops() / 2 / 1e9
    assert float(f"{gmacs:.3g}") == spec.gmacs, gmacs

    # every parameter belongs to exactly one stage; the CAM and feature modules exist
    for param, _ in model.named_parameters():
        owners = [s for s, prefixes in spec.stage_modules.items()
                  if any(param == p or param.startswith(p + ".") for p in prefixes)]
        assert len(owners) == 1, (param, owners)
    modules = dict(model.named_modules())
    assert spec.cam_layer in modules
    assert all(f.module in modules for f in spec.feature_info)


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_gmacs_agree(name):
    assert cnnzoo.model_info(name).gmacs == pytest.approx(
        tv_weights(TORCHVISION[name]).meta["_ops"], abs=1e-3)


# -- parity with torchvision ----------------------------------------------------------
@pytest.mark.parametrize("name", ["squeezenet1_0", "shufflenet_v2_x1_0", "mnasnet1_0"])
def test_torchvision_checkpoint_gives_torchvision_outputs(name, tmp_path):
    reference = randomize(torchvision.models.get_model(name, weights=None))
    path = tmp_path / f"{name}.pth"
    torch.save(reference.state_dict(), path)
    model = cnnzoo.create(name, checkpoint_path=path).eval()
    x = torch.randn(2, 3, 96, 96)
    with torch.no_grad():
        expected, got = reference(x), model(x)
    assert got.shape == (2, 1000)
    assert (got - expected).abs().max().item() < 1e-5


def test_native_models_take_torchvision_keys_as_they_are():
    for name in ("squeezenet1_1", "shufflenet_v2_x2_0"):
        with torch.device("meta"):
            reference = torchvision.models.get_model(name, weights=None)
        assert list(on_meta(name).state_dict()) == list(reference.state_dict())


def test_mnasnet_converter_refuses_unknown_keys():
    state = {"layers.0.weight": torch.zeros(1), "layers.99.weight": torch.zeros(1)}
    with pytest.raises(ValueError, match=r"layers\.99\.weight"):
        convert_torchvision_mnasnet(state)


# -- the model protocol and features --------------------------------------------------
@pytest.mark.parametrize("name", ["squeezenet1_1", "shufflenet_v2_x0_5"])
def test_native_protocol(name):
    model = cnnzoo.create(name, num_classes=7).eval()
    assert isinstance(model, ZooModel)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        features = model.forward_features(x)
        assert model.forward_head(features).shape == (1, 7)
        assert model.forward_head(features, pre_logits=True).shape == (1, model.num_features)
        model.reset_classifier(3)
        assert model(x).shape == (1, 3)
        model.reset_classifier(0)
        assert model(x).shape == (1, model.num_features)
    assert set(model.pretrained_cfg) >= {"mean", "std", "input_size", "crop_pct",
                                         "interpolation"}


@pytest.mark.parametrize("name", FEATURE_MODELS)
def test_features_only(name):
    spec = cnnzoo.model_info(name)
    extractor = cnnzoo.create(name, features_only=True).eval()
    # two inputs 64 apart: a stage's reduction is Δinput / Δoutput, exact even for
    # SqueezeNet's unpadded stem and ceil-mode pooling
    with torch.no_grad():
        small, large = (extractor(torch.randn(1, 3, s, s)) for s in (64, 128))
    assert len(small) == len(spec.feature_info)
    for a, b, stage in zip(small, large, spec.feature_info, strict=True):
        assert a.shape[1] == b.shape[1] == stage.num_chs, stage
        assert 64 / (b.shape[-1] - a.shape[-1]) == stage.reduction, stage
    assert extractor.feature_info.channels() == [s.num_chs for s in spec.feature_info]


# -- the registered weights -----------------------------------------------------------
def torchvision_tags():
    return [(name, tag) for name in cnnzoo.list_models(task="classification")
            for tag, w in cnnzoo.model_info(name).weights.items() if w.source == "torchvision"]


@pytest.mark.parametrize(("name", "tag"), torchvision_tags())
def test_torchvision_tag_literals_equal_torchvision(name, tag):
    weights = cnnzoo.model_info(name).weights[tag]
    entry = torchvision.models.get_weight(weights.repo_id)
    meta, transforms = entry.meta, entry.transforms()
    assert weights.format == "torchvision"
    assert weights.num_classes == len(meta["categories"])
    metrics = meta["_metrics"]["ImageNet-1K"]
    assert dict(weights.metrics) == {"imagenet-1k/top1": metrics["acc@1"],
                                     "imagenet-1k/top5": metrics["acc@5"]}
    assert weights.mean == tuple(transforms.mean)
    assert weights.std == tuple(transforms.std)
    crop, resize = transforms.crop_size[0], transforms.resize_size[0]
    assert weights.input_size == (3, crop, crop)
    assert weights.crop_pct == pytest.approx(crop / resize, abs=1e-12)
    assert weights.interpolation == transforms.interpolation.value
    assert weights.labels == "imagenet-1k" and weights.dataset == "imagenet-1k"


def test_our_torchvision_tags_are_all_there():
    tags = {name for name, _ in torchvision_tags()}
    assert set(TORCHVISION) <= tags


@pytest.mark.parametrize("name", sorted(TIMM))
def test_timm_families_have_their_hub_weights(name):
    if TIMM[name] not in _pretrained.TIMM_WEIGHTS:
        pytest.skip(f"catalog/_pretrained.py has not been regenerated with {TIMM[name]}")
    spec = cnnzoo.model_info(name)
    assert spec.weights and spec.default_tag is not None
    assert all(w.repo_id.startswith(f"timm/{TIMM[name]}.") for w in spec.weights.values())
