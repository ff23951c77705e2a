"""create(): every model builds, runs and speaks the protocol; arguments are checked."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.analysis import receptive_field
from cnnzoo.errors import ModelArgumentError
from tests.helpers import materialize

ALL = cnnzoo.list_models()
SMALL = 64
SIDE = {"lenet5": 32, "inception_v3": 75}  # 64, or what the architecture needs


def _input(spec, size=None, batch=2):
    side = size or SIDE.get(spec.name, SMALL)
    return torch.randn(batch, spec.in_chans, side, side)


@pytest.mark.parametrize("name", ALL)
def test_every_model_builds_runs_and_speaks_the_protocol(name):
    spec = cnnzoo.model_info(name)
    model = cnnzoo.create(name, num_classes=7).eval()
    x = _input(spec)
    with torch.no_grad():
        out = model(x)
        features = model.forward_features(x)
        pooled = model.forward_head(features, pre_logits=True)
        logits = model.forward_head(features)
    if spec.task == "classification":
        assert out.shape == (2, 7)
        assert pooled.ndim == 2 and pooled.shape[0] == 2
    else:
        assert out.shape == (2, 7, x.shape[2], x.shape[3])
    torch.testing.assert_close(logits, out)
    assert isinstance(model.get_classifier(), nn.Module)
    cfg = model.pretrained_cfg
    assert cfg["architecture"] == spec.name and cfg["num_classes"] == 7
    assert len(cfg["mean"]) == len(cfg["std"]) == spec.in_chans
    assert model.feature_info
    model.reset_classifier(3)
    with torch.no_grad():
        assert model(x).shape[1] == 3


@pytest.mark.parametrize("name", ALL)
def test_spec_param_count_matches_the_built_model(name):
    spec = cnnzoo.model_info(name)
    with torch.device("meta"):
        model = cnnzoo.create(name)
    assert sum(p.numel() for p in model.parameters()) == spec.num_params


@pytest.mark.parametrize("name", ALL)
def test_features_only_returns_the_declared_channels_and_reductions(name):
    spec = cnnzoo.model_info(name)
    with torch.device("meta"):
        extractor = cnnzoo.create(name, features_only=True)
    materialize(extractor, tiled=True).eval()
    size = SIDE.get(name, SMALL)
    x = _input(spec, size=size, batch=1)
    with torch.no_grad():
        maps = extractor(x)
    assert extractor.feature_info.channels() == [f.num_chs for f in spec.feature_info]
    assert extractor.feature_info.reduction() == [f.reduction for f in spec.feature_info]
    assert len(maps) == len(spec.feature_info)
    for fmap, stage in zip(maps, spec.feature_info, strict=True):
        assert fmap.shape[1] == stage.num_chs, stage
    # the declared reduction is the stage's cumulative stride, measured exactly
    strides = receptive_field(extractor.model, input_size=x.shape[1:])
    assert [strides[s.module][1] for s in spec.feature_info] == [
        s.reduction for s in spec.feature_info]


def test_out_indices_pick_stages_and_reject_bad_ones():
    extractor = cnnzoo.create("resnet18", features_only=True, out_indices=(-1, 1))
    assert extractor.feature_info.reduction() == [32, 4]
    with pytest.raises(cnnzoo.CnnzooError, match=r"0\.\.4"):
        cnnzoo.create("resnet18", features_only=True, out_indices=(5,))
    with pytest.raises(ModelArgumentError, match="features_only"):
        cnnzoo.create("resnet18", out_indices=(1,))


def test_unknown_kwarg_lists_the_accepted_ones():
    with pytest.raises(ModelArgumentError) as err:
        cnnzoo.create("resnet18", drop_pth_rate=0.1)
    message = str(err.value)
    assert "drop_pth_rate" in message and "drop_path_rate" in message
    assert "output_stride" in message  # the full list, not only the suggestion
    with pytest.raises(TypeError):  # still a TypeError for callers that catch that
        cnnzoo.create("lenet5", depth=3)


def test_builder_kwargs_reach_the_model():
    model = cnnzoo.create("convnext_tiny", drop_path_rate=0.2)
    rates = [m.drop_prob for m in model.modules() if type(m).__name__ == "DropPath"]
    assert rates and max(rates) == pytest.approx(0.2)


def test_bad_values_are_clear_errors():
    with pytest.raises(ModelArgumentError, match="num_classes"):
        cnnzoo.create("resnet18", num_classes=-1)
    with pytest.raises(ModelArgumentError, match="in_chans"):
        cnnzoo.create("resnet18", in_chans=0)
    with pytest.raises(cnnzoo.CnnzooError, match="Did you mean"):
        cnnzoo.create("resnet19")


def test_in_chans_and_zero_classes():
    model = cnnzoo.create("resnet18", in_chans=1, num_classes=0).eval()
    with torch.no_grad():
        assert model(torch.randn(1, 1, SMALL, SMALL)).shape == (1, 512)
    assert model.pretrained_cfg["input_size"][0] == 1
    assert len(model.pretrained_cfg["mean"]) == 1


def test_plugin_model_is_listed_built_and_speaks_the_protocol():
    spec = cnnzoo.model_info("tinynet")
    assert spec.source == "cnnzoo-plugin-example"
    assert "tinynet" in cnnzoo.list_models(family="tinynet")
    model = cnnzoo.create("tiny_net", num_classes=4).eval()
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 4)
    features = cnnzoo.create("tinynet", features_only=True)
    assert [f.shape[1] for f in features(torch.randn(1, 3, 64, 64))] == [16, 32, 64]
