"""torchvision → timm checkpoint converters: exact key sets and numerical parity."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
import timm
import torch
import torchvision
from torch import nn

from cnnzoo.models.converters.torchvision import (
    CONVNEXT,
    EFFICIENTNET,
    EFFICIENTNET_B5_B7,
    MOBILENETV2,
    MOBILENETV3,
    RESNET,
    TORCHVISION_TO_TIMM,
    VGG,
    CheckpointConverter,
)

ATOL = 1e-5

# (torchvision name, timm name, converter)
PARITY_CASES = [
    ("resnet50", "resnet50", RESNET),
    ("resnext50_32x4d", "resnext50_32x4d", RESNET),
    ("vgg16", "vgg16", VGG),
    ("vgg11_bn", "vgg11_bn", VGG),
    ("mobilenet_v2", "mobilenetv2_100", MOBILENETV2),
    ("mobilenet_v3_large", "mobilenetv3_large_100", MOBILENETV3),
    ("mobilenet_v3_small", "mobilenetv3_small_100", MOBILENETV3),
    ("efficientnet_b0", "efficientnet_b0", EFFICIENTNET),
    ("convnext_tiny", "convnext_tiny", CONVNEXT),
]


@torch.no_grad()
def _randomise(model: nn.Module, image_size: int) -> nn.Module:
    """Random values everywhere torchvision initialises constants, so that a wrong mapping
    (or a wrong BatchNorm eps) changes the output; activations stay O(1).

    Norm affines and conv/linear biases get random values, ConvNeXt's layer scale (1e-6 at
    init, which would hide its blocks) is set to ~0.1. BatchNorm running statistics are
    measured on a random batch (so the network stays well scaled), then perturbed and
    floored at 1e-2 so that an eps of 1e-3 instead of 1e-5 shows.
    """
    batch_norms = []
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm2d, nn.LayerNorm)):
            module.weight.uniform_(0.75, 1.25)
            module.bias.normal_(0.0, 0.1)
        elif isinstance(module, (nn.Conv2d, nn.Linear)) and module.bias is not None:
            module.bias.normal_(0.0, 0.02)
        if isinstance(module, nn.BatchNorm2d):
            module.reset_running_stats()
            module.momentum = None  # cumulative average: one batch sets the statistics
            batch_norms.append(module)
    for name, param in model.named_parameters():
        if name.endswith("layer_scale"):
            param.uniform_(0.05, 0.15)
    if batch_norms:
        model.train()
        model(torch.randn(2, 3, image_size, image_size))
        for module in batch_norms:
            module.momentum = 0.1
            module.running_mean.add_(torch.randn_like(module.running_mean) * 0.05)
            module.running_var.mul_(torch.empty_like(module.running_var).uniform_(0.75, 1.25))
            module.running_var.clamp_(min=1e-2)
    return model.eval()


def _torchvision_model(name: str, image_size: int = 224) -> nn.Module:
    torch.manual_seed(0)
    return _randomise(torchvision.models.get_model(name, weights=None), image_size)


def _timm_model(name: str, converted: dict[str, torch.Tensor], **build_kwargs) -> nn.Module:
    """``timm.create_model(name, **build_kwargs)`` holding ``converted`` (strict load).

    The model is built on the meta device and receives its tensors from the strict load
    (``assign=True``): this skips timm's weight init, most of VGG's test time.
    """
    with torch.device("meta"):
        model = timm.create_model(name, **build_kwargs)
    model.load_state_dict(converted, strict=True, assign=True)
    assert not any(t.is_meta for t in itertools.chain(model.parameters(), model.buffers()))
    return model.eval()


def _max_abs_diff(a: nn.Module, b: nn.Module, image_size: int = 224) -> float:
    x = torch.randn(2, 3, image_size, image_size, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        return (a(x) - b(x)).abs().max().item()


@pytest.mark.parametrize(
    ("tv_name", "timm_name", "converter"), PARITY_CASES, ids=[c[0] for c in PARITY_CASES]
)
def test_outputs_match_torchvision(tv_name, timm_name, converter):
    reference = _torchvision_model(tv_name)
    model = _timm_model(timm_name, converter(reference.state_dict()), **converter.build_kwargs)
    diff = _max_abs_diff(reference, model)
    assert diff <= ATOL, f"{tv_name} → {timm_name}: max abs diff {diff:.3g}"


@pytest.mark.parametrize(
    ("tv_name", "timm_name"),
    [("mobilenet_v3_small", "mobilenetv3_small_100"), ("efficientnet_b5", "efficientnet_b5")],
)
def test_bn_eps_build_kwarg_is_needed(tv_name, timm_name):
    """torchvision's eps 1e-3 is visible: without ``bn_eps`` the outputs differ; with it they
    match (EfficientNet-B5 checked at a small input to stay fast)."""
    converter = TORCHVISION_TO_TIMM[tv_name][1]
    assert converter.build_kwargs == {"bn_eps": 1e-3}
    size = 224 if tv_name.startswith("mobilenet") else 64
    reference = _torchvision_model(tv_name, size)
    converted = converter(reference.state_dict())
    with_eps = _timm_model(timm_name, converted, **converter.build_kwargs)
    assert _max_abs_diff(reference, with_eps, size) <= ATOL
    timm_default_eps = _timm_model(timm_name, converted)
    assert _max_abs_diff(reference, timm_default_eps, size) > 100 * ATOL


def _meta_state_dicts(tv_name: str, timm_name: str, converter: CheckpointConverter):
    original = torchvision.models.regnet.BlockParams.from_init_params

    def widths_on_cpu(*args, **kwargs):  # torchvision's RegNet widths are tensors: not on meta
        with torch.device("cpu"):
            return original(*args, **kwargs)

    with torch.device("meta"), pytest.MonkeyPatch.context() as patch:
        patch.setattr(torchvision.models.regnet.BlockParams, "from_init_params",
                      staticmethod(widths_on_cpu))
        tv_model = torchvision.models.get_model(tv_name, weights=None)
        timm_model = timm.create_model(timm_name, **converter.build_kwargs)
    return tv_model, timm_model


@pytest.mark.parametrize("tv_name", sorted(TORCHVISION_TO_TIMM))
def test_converted_keys_and_shapes_equal_timm(tv_name):
    """Every supported pair, on the meta device: exactly timm's keys, with timm's shapes."""
    timm_name, converter = TORCHVISION_TO_TIMM[tv_name]
    tv_model, timm_model = _meta_state_dicts(tv_name, timm_name, converter)
    converted = converter(tv_model.state_dict())
    expected = timm_model.state_dict()
    assert set(converted) == set(expected)
    wrong = {k: (tuple(converted[k].shape), tuple(v.shape))
             for k, v in expected.items() if converted[k].shape != v.shape}
    assert not wrong


def test_efficientnet_b1_parameter_count():
    tv_model, timm_model = _meta_state_dicts("efficientnet_b1", "efficientnet_b1", EFFICIENTNET)
    converted = EFFICIENTNET(tv_model.state_dict())
    timm_params = dict(timm_model.named_parameters())
    converted_count = sum(v.numel() for k, v in converted.items() if k in timm_params)
    tv_count = sum(p.numel() for p in tv_model.parameters())
    assert converted_count == tv_count == sum(p.numel() for p in timm_params.values())
    assert tv_count == 7_794_184


def test_table_converters():
    assert TORCHVISION_TO_TIMM["efficientnet_b4"][1] is EFFICIENTNET
    assert TORCHVISION_TO_TIMM["efficientnet_b7"][1] is EFFICIENTNET_B5_B7
    assert TORCHVISION_TO_TIMM["mobilenet_v3_large"] == ("mobilenetv3_large_100", MOBILENETV3)
    for converter in {c for _, c in TORCHVISION_TO_TIMM.values()}:
        assert converter.source == "torchvision"
        assert converter.convert.__doc__
        with pytest.raises(TypeError):
            converter.build_kwargs["bn_eps"] = 1.0  # read-only


# ------------------------------------------------------------------------ negative cases

NEGATIVE_CASES = [
    ("resnet18", RESNET, "layer5.0.conv1.weight"),
    ("resnet18", RESNET, "module.conv1.weight"),  # nn.DataParallel prefix
    ("vgg11", VGG, "classifier.9.weight"),
    ("mobilenet_v2", MOBILENETV2, "features.1.conv.3.weight"),
    ("mobilenet_v3_small", MOBILENETV3, "features.3.block.3.0.weight"),
    ("efficientnet_b0", EFFICIENTNET, "features.1.0.block.3.0.weight"),
    ("convnext_tiny", CONVNEXT, "features.1.0.block.4.weight"),
    ("convnext_tiny", CONVNEXT, "head.fc.weight"),  # already in timm's layout
]


@pytest.mark.parametrize(("tv_name", "converter", "extra_key"), NEGATIVE_CASES)
def test_unexpected_key_raises_naming_it(tv_name, converter, extra_key):
    with torch.device("meta"):
        state_dict = torchvision.models.get_model(tv_name, weights=None).state_dict()
    state_dict[extra_key] = torch.zeros(1)
    with pytest.raises(ValueError, match=rf"'{extra_key}'"):
        converter(state_dict)


def test_bad_shapes_and_unknown_variants_raise():
    with pytest.raises(ValueError, match=r"'classifier\.0\.weight'"):
        VGG({"classifier.0.weight": torch.zeros(10, 100)})
    with pytest.raises(ValueError, match=r"'features\.1\.0\.layer_scale'"):
        CONVNEXT({"features.1.0.layer_scale": torch.zeros(96)})
    with pytest.raises(ValueError, match="large from small"):
        MOBILENETV3({"features.0.0.weight": torch.zeros(16, 3, 3, 3)})


def test_import_is_cheap():
    code = (
        "import sys, cnnzoo.models.converters; before = set(sys.modules); "
        "import cnnzoo.models.converters.torchvision; "
        "new = set(sys.modules) - before; "
        "heavy = sorted(m for m in new if m.split('.')[0] in ('torchvision', 'timm')); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_two_keys_on_one_target_raise():
    from cnnzoo.models.converters.torchvision import _apply, _rule

    rules = [_rule(r"a\.\d\.weight", "b.weight")]
    with pytest.raises(ValueError, match=r"'a\.1\.weight' and 'a\.2\.weight' both map to"):
        _apply("Test", rules, {"a.1.weight": torch.zeros(1), "a.2.weight": torch.zeros(1)})
