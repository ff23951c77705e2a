"""DenseNet, Inception-v3, Wide ResNet, ResNeXt-101 64x4d, RegNetX/Y and EfficientNetV2.

References nobody here wrote: torchvision's ``weights.meta["num_params"]`` and its outputs
under the same (random) weights, loaded through ``create(checkpoint_path=…)``. Counts,
layouts and MACs are measured on the ``meta`` device (no compute); only the parity tests
run real forwards, at small inputs.
"""

from __future__ import annotations

import copy
import pickle
import warnings

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models.regnet import BlockParams

import cnnzoo
from cnnzoo.analysis import count_macs
from cnnzoo.models.converters.torchvision import DENSENET, TORCHVISION_TO_TIMM
from cnnzoo.spec import import_object

pytestmark = pytest.mark.usefixtures("one_thread")

# cnnzoo name -> torchvision name
TORCHVISION = {
    **{f"densenet{d}": f"densenet{d}" for d in (121, 161, 169, 201)},
    "inception_v3": "inception_v3",
    "wide_resnet50_2": "wide_resnet50_2", "wide_resnet101_2": "wide_resnet101_2",
    "resnext101_64x4d": "resnext101_64x4d",
    "regnetx_004_tv": "regnet_x_400mf", "regnetx_008": "regnet_x_800mf",
    "regnetx_016": "regnet_x_1_6gf", "regnetx_032": "regnet_x_3_2gf",
    "regnetx_080": "regnet_x_8gf", "regnetx_160": "regnet_x_16gf",
    "regnetx_320": "regnet_x_32gf",
    "regnety_004": "regnet_y_400mf", "regnety_008_tv": "regnet_y_800mf",
    "regnety_016": "regnet_y_1_6gf", "regnety_032": "regnet_y_3_2gf",
    "regnety_080_tv": "regnet_y_8gf", "regnety_160": "regnet_y_16gf",
    "regnety_320": "regnet_y_32gf", "regnety_1280": "regnet_y_128gf",
    **{f"efficientnetv2_{s}": f"efficientnet_v2_{s}" for s in "sml"},
}
FAMILIES = {"densenet", "inception", "wide_resnet", "regnet", "efficientnetv2"}
# one model per family: (cnnzoo name, input side for the parity forward)
REPRESENTATIVES = {
    "densenet121": 64,
    "inception_v3": 75,  # torchvision's smallest valid input
    "wide_resnet50_2": 64,
    "resnext101_64x4d": 32,
    "regnetx_004_tv": 64,
    "regnety_004": 64,
    "efficientnetv2_s": 64,
}


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def on_meta(name: str, **kwargs) -> nn.Module:
    with torch.device("meta"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cnnzoo.create(name, **kwargs)


@pytest.fixture
def regnet_on_meta(monkeypatch):
    """torchvision's RegNet builders compute their widths with tensors, which fails on the
    meta device; compute them on the CPU so the models can be built on meta."""
    original = BlockParams.from_init_params.__func__

    def on_cpu(cls, *args, **kwargs):
        with torch.device("cpu"):
            return original(cls, *args, **kwargs)

    monkeypatch.setattr(BlockParams, "from_init_params", classmethod(on_cpu))


def torchvision_on_meta(tv_name: str) -> nn.Module:
    kwargs = {"init_weights": False} if tv_name == "inception_v3" else {}
    with torch.device("meta"):
        return torchvision.models.get_model(tv_name, weights=None, **kwargs)


def randomize_bn(model: nn.Module) -> None:
    """Random running statistics, so a wrong BN epsilon or mapping shows up."""
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.modules.batchnorm._BatchNorm):
                module.running_mean.uniform_(-0.5, 0.5)
                module.running_var.uniform_(0.5, 2.0)
                module.weight.uniform_(0.5, 1.5)
                module.bias.uniform_(-0.2, 0.2)


def torchvision_reference(tv_name: str, **kwargs) -> nn.Module:
    if tv_name == "inception_v3":
        kwargs.setdefault("init_weights", False)  # PyTorch's default init: outputs of order 1
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = torchvision.models.get_model(tv_name, weights=None, **kwargs)
    randomize_bn(model)
    return model.eval()


# -- the registry -----------------------------------------------------------------------
def test_every_model_of_these_families_is_covered():
    ours = {n for n in cnnzoo.list_models() if cnnzoo.model_info(n).family in FAMILIES}
    ours |= {"resnext101_64x4d"}
    assert ours == set(TORCHVISION)
    assert set(REPRESENTATIVES) <= set(TORCHVISION)


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_spec_is_complete_and_torchvision_name_resolves(name):
    spec = cnnzoo.model_info(name)
    assert spec.paper and spec.description and spec.cam_layer and spec.gmacs
    assert spec.stages[0] == "stem" and spec.stages[-1] == "head"
    assert len(spec.feature_info) == 5
    assert spec.weights and spec.default_tag is not None
    assert "torchvision" in spec.checkpoint_converters
    assert cnnzoo.model_info(TORCHVISION[name]).name == name  # the alias (or the same name)


# -- (a) parameter counts ------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_param_count_equals_torchvision_meta(name):
    reference = torchvision.models.get_model_weights(TORCHVISION[name]).DEFAULT.meta["num_params"]
    assert n_params(on_meta(name)) == reference
    assert cnnzoo.model_info(name).num_params == reference


# -- layouts: every converter, every model, on meta ------------------------------------------
@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_torchvision_keys_convert_to_exactly_ours(name, regnet_on_meta):
    tv_name = TORCHVISION[name]
    timm_name, converter = TORCHVISION_TO_TIMM[tv_name]
    assert timm_name == name
    assert import_object(cnnzoo.model_info(name).checkpoint_converters["torchvision"]) is converter
    converted = converter(torchvision_on_meta(tv_name).state_dict())
    expected = on_meta(name, **converter.build_kwargs).state_dict()
    assert set(converted) == set(expected)
    assert {k: tuple(v.shape) for k, v in converted.items()} == {
        k: tuple(v.shape) for k, v in expected.items()}


def test_densenet_accepts_the_legacy_keys_of_torchvision_published_files():
    state = torchvision_on_meta("densenet121").state_dict()
    legacy = {k.replace("norm1.", "norm.1.").replace("conv2.", "conv.2.")
              if ".denselayer" in k else k: v for k, v in state.items()}
    assert legacy != state
    assert set(DENSENET(legacy)) == set(state)


# -- (b) parity with torchvision through checkpoint_path ---------------------------------
@pytest.mark.parametrize("name", sorted(REPRESENTATIVES))
def test_output_parity_with_torchvision(tmp_path, name):
    tv_name, size = TORCHVISION[name], REPRESENTATIVES[name]
    reference = torchvision_reference(tv_name)
    path = tmp_path / f"{tv_name}.pth"
    torch.save(reference.state_dict(), path)
    model = cnnzoo.create(tv_name, checkpoint_path=path).eval()  # by torchvision's name
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        expected, actual = reference(x), model(x)
    assert actual.shape == expected.shape
    assert (actual - expected).abs().max().item() < 1e-5


def test_inception_v3_training_outputs_and_transform_input_match_torchvision(tmp_path):
    reference = torchvision_reference("inception_v3", dropout=0.0, transform_input=True)
    path = tmp_path / "inception_v3.pth"
    torch.save(reference.state_dict(), path)
    model = cnnzoo.create("inception_v3", checkpoint_path=path, transform_input=True)
    x = torch.randn(2, 3, 299, 299)  # the auxiliary classifier needs 17x17 after Mixed_6e
    reference.train()
    model.train()
    with torch.no_grad():
        expected, actual = reference(x), model(x)
    assert (actual.logits - expected.logits).abs().max().item() < 1e-5
    assert (actual.aux_logits - expected.aux_logits).abs().max().item() < 1e-5
    model.eval()
    assert isinstance(model(x[:1, :, :75, :75]), torch.Tensor)  # no auxiliary output in eval


def test_inception_v3_without_aux_logits_and_pickling():
    model = on_meta("inception_v3", aux_logits=False)
    assert n_params(model) == 23_834_568  # timm's default, and torchvision's aux_logits=False
    full = on_meta("inception_v3")
    clone = pickle.loads(pickle.dumps(full))
    assert type(clone) is type(full) and type(copy.deepcopy(full)) is type(full)


def test_efficientnetv2_uses_torchvision_batchnorm_eps():
    model = on_meta("efficientnet_v2_s")
    eps = {m.eps for m in model.modules() if isinstance(m, nn.BatchNorm2d)}
    assert eps == {1e-3}


# -- (c) the spec's GMACs ----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REPRESENTATIVES))
def test_spec_gmacs_are_measured(name):
    spec = cnnzoo.model_info(name)
    measured = count_macs(on_meta(name).eval(), spec.input_size) / 1e9
    assert spec.gmacs == pytest.approx(measured, rel=0.02)


# -- stages and features -----------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(REPRESENTATIVES))
def test_stages_own_every_parameter(name):
    spec = cnnzoo.model_info(name)
    prefixes = [p for stage in spec.stages for p in spec.stage_modules.get(stage, ())]
    orphans = [k for k, _ in on_meta(name).named_parameters()
               if not any(k == p or k.startswith(p + ".") for p in prefixes)]
    assert not orphans


@pytest.mark.parametrize("name", sorted(REPRESENTATIVES))
def test_features_only_matches_feature_info(name):
    spec = cnnzoo.model_info(name)
    extractor = on_meta(name, features_only=True).eval()
    side = spec.input_size[1]
    features = extractor(torch.empty(1, 3, side, side, device="meta"))
    assert [f.shape[1] for f in features] == [s.num_chs for s in spec.feature_info]
    for feature, stage in zip(features, spec.feature_info, strict=True):
        # within 20 %: Inception's unpadded convolutions shave a few pixels off each stage
        assert side / feature.shape[-1] == pytest.approx(stage.reduction, rel=0.2)
