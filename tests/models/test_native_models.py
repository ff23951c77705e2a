"""The native networks: LeNet-5, AlexNet, GoogLeNet and UNet.

References nobody here wrote: torchvision's parameter counts and outputs under the
same weights, the paper count of LeNet-5 and the classic UNet's 31,038,933.
Shapes, parameter counts and MACs are measured on the ``meta`` device (no compute).
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import warnings

import pytest
import timm
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from cnnzoo.build.unet import build_unet
from cnnzoo.catalog import alexnet as alexnet_catalog
from cnnzoo.catalog import googlenet as googlenet_catalog
from cnnzoo.catalog import lenet as lenet_catalog
from cnnzoo.catalog import unet as unet_catalog
from cnnzoo.models.base import ZooModel
from cnnzoo.models.googlenet import GoogLeNetOutputs, build_googlenet, convert_torchvision
from cnnzoo.spec import ModelSpec, import_object

SPECS: dict[str, ModelSpec] = {
    spec.name: spec
    for module in (lenet_catalog, alexnet_catalog, googlenet_catalog, unet_catalog)
    for spec in module.SPECS
}
NAMES = ("lenet5", "alexnet", "googlenet", "unet")
# Two input sizes 64 apart: a stage's reduction is Δinput / Δoutput, exact even for
# valid (unpadded) convolutions; the first size is the smallest each network takes.
# Cheaper variants where a test is about the protocol, not the architecture.
FAST = {"googlenet": {"init_weights": False}, "unet": {"base_width": 8}}
PROBE_SIZES = {"lenet5": (32, 96), "alexnet": (64, 128), "googlenet": (32, 96), "unet": (32, 96)}


def build(name: str, meta: bool = False, **kwargs) -> nn.Module:
    spec = SPECS[name]
    builder = import_object(spec.builder)
    call = {**spec.builder_args, "num_classes": spec.num_classes, "in_chans": spec.in_chans,
            **kwargs}
    if meta:
        with torch.device("meta"):
            return builder(**call)
    return builder(**call)


def load_into_meta(name: str, state, **kwargs) -> nn.Module:
    """Build on the meta device and load ``state`` strictly with ``assign=True`` (the
    factory's path), from a copy so the reference model is left untouched."""
    model = build(name, meta=True, **kwargs)
    model.load_state_dict({k: v.clone() for k, v in state.items()}, strict=True, assign=True)
    assert not any(t.is_meta for t in (*model.parameters(), *model.buffers()))
    return model.eval()


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def tv_num_params(name: str) -> int:
    return torchvision.models.get_model_weights(name).DEFAULT.meta["num_params"]


def owning_stages(param: str, stage_modules) -> list[str]:
    return [
        stage for stage, prefixes in stage_modules.items()
        if any(param == p or param.startswith(p + ".") for p in prefixes)
    ]


def measure_features(model: nn.Module, modules: list[str], in_chans: int, sizes, device="meta"):
    """Hook-measured (channels, reduction) of each named module's output."""
    named = dict(model.named_modules())
    shapes: dict[int, dict[str, torch.Size]] = {}
    for size in sizes:
        seen: dict[str, torch.Size] = {}
        handles = [
            named[m].register_forward_hook(
                lambda _m, _i, out, m=m, seen=seen: seen.__setitem__(m, out.shape)
            )
            for m in modules
        ]
        try:
            with torch.no_grad():
                model.forward_features(torch.zeros(2, in_chans, size, size, device=device))
        finally:
            for h in handles:
                h.remove()
        shapes[size] = seen
    small, large = sizes
    result = []
    for m in modules:
        a, b = shapes[small][m], shapes[large][m]
        assert a[1] == b[1]
        assert a[-1] == a[-2] and b[-1] == b[-2], f"{m}: non-square output {a}"
        result.append((int(a[1]), (large - small) / (b[-1] - a[-1])))
    return result, shapes


@pytest.fixture(scope="module")
def timm_encoder():
    torch.manual_seed(0)
    return timm.create_model("resnet18", features_only=True, pretrained=False)


# -- parameter counts and MACs --------------------------------------------------------
def test_lenet5_has_the_paper_count():
    assert n_params(build("lenet5")) == 61_706
    assert SPECS["lenet5"].num_params == 61_706


@pytest.mark.parametrize("name", ["alexnet", "googlenet"])
def test_counts_match_torchvision(name):
    expected = tv_num_params(name)
    assert n_params(build(name, meta=True)) == expected
    assert SPECS[name].num_params == expected
    with torch.device("meta"):
        tv = torchvision.models.get_model(name, weights=None, **(
            {"aux_logits": False, "init_weights": False} if name == "googlenet" else {}))
    assert n_params(tv) == expected


def test_unet_reference_count():
    assert n_params(build("unet", meta=True, in_chans=3, num_classes=21)) == 31_038_933


@pytest.mark.parametrize("name", NAMES)
def test_spec_count_and_gmacs_are_measured(name):
    spec = SPECS[name]
    model = build(name, meta=True).eval()
    assert n_params(model) == spec.num_params
    with torch.device("meta"):
        x = torch.zeros(1, *spec.input_size)
    with FlopCounterMode(display=False) as counter:
        model(x)
    gmacs = counter.get_total_flops() / 2 / 1e9
    assert float(f"{gmacs:.3g}") == spec.gmacs, gmacs


# -- parity with torchvision ----------------------------------------------------------
def test_alexnet_matches_torchvision():
    torch.manual_seed(0)
    tv = torchvision.models.alexnet(weights=None).eval()
    _signal_init(tv)
    ours = load_into_meta("alexnet", tv.state_dict())
    x = torch.randn(2, 3, 64, 64)
    _assert_input_matters(tv, x, tv(x).detach())
    with torch.no_grad():
        ref, out = tv(x), ours(x)
        assert out.shape == (2, 1000)
        assert (out - ref).abs().max().item() < 1e-5
        # the tolerance is meaningful: a 1 % change of the classifier is seen
        ours.classifier[6].weight.mul_(1.01)
        assert (ours(x) - ref).abs().max().item() > 1e-5


def _signal_init(model: nn.Module) -> None:
    """He-normal weights and small random biases: the outputs then depend on the input
    (torchvision's std-0.01 GoogLeNet init gives near-constant logits, which a 1e-5
    comparison would not tell apart)."""
    g = torch.Generator().manual_seed(4)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            with torch.no_grad():
                fan_in = m.weight[0].numel()
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * (2 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)


def _assert_input_matters(model: nn.Module, x: torch.Tensor, ref: torch.Tensor) -> None:
    with torch.no_grad():
        other = model(torch.randn(x.shape, generator=torch.Generator().manual_seed(9)))
    assert (other - ref).abs().max().item() > 1e-2


def _randomise_bn(model: nn.Module) -> None:
    g = torch.Generator().manual_seed(1)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            with torch.no_grad():
                m.running_mean.copy_(torch.rand(m.num_features, generator=g) - 0.5)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.rand(m.num_features, generator=g) - 0.5)


# torchvision's truncated-normal init is slow on CPU: build each reference once, and
# build ours with init_weights=False wherever a state dict is loaded into it anyway.
@pytest.fixture(scope="module")
def tv_googlenet():
    torch.manual_seed(0)
    tv = torchvision.models.googlenet(weights=None, aux_logits=False, init_weights=True).eval()
    _signal_init(tv)
    _randomise_bn(tv)
    return tv


@pytest.fixture(scope="module")
def tv_googlenet_aux():
    torch.manual_seed(0)
    tv = torchvision.models.googlenet(
        weights=None, aux_logits=True, init_weights=True, dropout=0.0, dropout_aux=0.0
    ).eval()
    _signal_init(tv)
    _randomise_bn(tv)
    return tv


@pytest.mark.parametrize("transform_input", [False, True])
def test_googlenet_matches_torchvision(tv_googlenet, transform_input):
    tv_googlenet.transform_input = transform_input
    try:
        ours = load_into_meta("googlenet", tv_googlenet.state_dict(),
                              transform_input=transform_input)
        x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(2))
        with torch.no_grad():
            ref, out = tv_googlenet(x), ours(x)
        _assert_input_matters(tv_googlenet, x, ref)
        tv_googlenet.transform_input = not transform_input
        with torch.no_grad():  # the option is seen: the other setting differs
            assert (tv_googlenet(x) - out).abs().max().item() > 1e-2
    finally:
        tv_googlenet.transform_input = False
    assert out.shape == (2, 1000)
    assert (out - ref).abs().max().item() < 1e-5


def test_googlenet_aux_heads_match_torchvision_in_training(tv_googlenet_aux):
    tv = tv_googlenet_aux
    ours = load_into_meta("googlenet", tv.state_dict(), aux_logits=True, dropout=0.0,
                          dropout_aux=0.0)
    assert n_params(ours) == n_params(tv) > SPECS["googlenet"].num_params
    x = torch.randn(2, 3, 64, 64, generator=torch.Generator().manual_seed(3))
    tv.train(), ours.train()
    try:
        with torch.no_grad():
            ref, out = tv(x), ours(x)
    finally:
        tv.eval()
    assert isinstance(out, GoogLeNetOutputs)
    for a, b in zip(out, ref, strict=True):
        assert (a - b).abs().max().item() < 1e-5
    ours.eval()
    assert isinstance(ours(x), torch.Tensor)  # eval: logits only, like torchvision


def test_torchvision_googlenet_checkpoint_with_aux_converts(tv_googlenet_aux):
    state = tv_googlenet_aux.state_dict()
    ours = build("googlenet", init_weights=False)  # aux_logits=False
    with pytest.raises(RuntimeError, match="aux1"):
        ours.load_state_dict(state, strict=True)
    ours.load_state_dict(convert_torchvision(state), strict=True)
    with_aux = build("googlenet", aux_logits=True, init_weights=False)
    with_aux.load_state_dict(convert_torchvision(state, model=with_aux), strict=True)


def test_torchvision_checkpoint_through_the_factory(tv_googlenet_aux, tmp_path):
    factory = pytest.importorskip("cnnzoo.build.factory")
    path = tmp_path / "googlenet_tv.pth"
    torch.save(tv_googlenet_aux.state_dict(), path)  # torchvision's release also has aux
    model = factory.create("inception_v1", checkpoint_path=path).eval()
    assert model.aux1 is None
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert (model(x) - tv_googlenet_aux(x)).abs().max().item() < 1e-5


# -- forward at small inputs ----------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "size", "out_shape"),
    [
        ("lenet5", 32, (2, 10)),
        ("googlenet", 64, (2, 1000)),
        ("unet", 64, (2, 2, 64, 64)),
        ("unet", 72, (2, 2, 72, 72)),
    ],
)
def test_forward_small(name, size, out_shape):
    torch.manual_seed(0)
    model = build(name, **({"init_weights": False} if name == "googlenet" else {})).eval()
    x = torch.randn(2, SPECS[name].in_chans, size, size)
    with torch.no_grad():
        out = model(x)
    assert tuple(out.shape) == out_shape
    assert torch.isfinite(out).all()


def test_lenet5_rejects_other_sizes_clearly():
    with pytest.raises(ValueError, match="32×32"):
        build("lenet5")(torch.zeros(1, 1, 28, 28))


def test_unet_pads_and_crops_non_multiples_of_16():
    torch.manual_seed(0)
    model = build("unet", num_classes=3, base_width=8).eval()
    x = torch.randn(1, 3, 72, 40)
    with torch.no_grad():
        out = model(x)
        assert out.shape == (1, 3, 72, 40)
        # the crop is the unpadded region: the same as running the padded input by hand
        padded = torch.nn.functional.pad(x, (4, 4, 4, 4))
        ref = model(padded)[..., 4:76, 4:44]
    assert (out - ref).abs().max().item() < 1e-5


@pytest.mark.parametrize("size", [64, 72])
def test_unet_with_timm_feature_encoder(timm_encoder, size):
    model = build_unet(encoder=timm_encoder, num_classes=5).eval()
    assert model.num_features == 16
    assert isinstance(model.decoder.blocks[-1].conv, nn.Sequential)
    assert len(model.decoder.blocks) == 5
    with torch.no_grad():
        out = model(torch.randn(2, 3, size, size))
    assert out.shape == (2, 5, size, size)


def test_unet_encoder_by_zoo_name():
    # LeNet-5's valid convolutions give feature sizes that are not input / reduction:
    # the decoder must follow the skips' sizes, not assume exact ×2 steps.
    pytest.importorskip("cnnzoo.build.factory")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a sibling family's plugin may still be in progress
        model = build_unet(encoder="lenet", in_chans=1, num_classes=4)
    model.eval()
    assert [(f["num_chs"], f["reduction"]) for f in model.feature_info] == [(6, 2), (16, 4)]
    assert len(model.decoder.blocks) == 2  # one skip + the last block to input size
    with torch.no_grad():
        assert model(torch.randn(1, 1, 72, 72)).shape == (1, 4, 72, 72)
        assert model(torch.randn(1, 1, 45, 37)).shape == (1, 4, 45, 37)
    _assert_partition(model, model.stage_modules)
    assert model.stages == ("stem", "stage1", "decoder", "head")


def test_unet_argument_errors(timm_encoder):
    with pytest.raises(ValueError, match="decoder_channels applies"):
        build_unet(decoder_channels=(8, 8, 8, 8, 8))
    with pytest.raises(ValueError, match="encoder_pretrained needs an encoder"):
        build_unet(encoder_pretrained=True)
    with pytest.raises(ValueError, match="needs 5 decoder blocks"):
        build_unet(encoder=timm_encoder, decoder_channels=(32, 16))
    with pytest.raises(TypeError, match="features_only"):
        build_unet(encoder=nn.Conv2d(3, 3, 1))


# -- the protocol ---------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_builder_takes_explicit_keyword_only_args(name):
    params = inspect.signature(import_object(SPECS[name].builder)).parameters
    assert {"num_classes", "in_chans"} <= set(params)
    for p in params.values():
        assert p.kind is p.KEYWORD_ONLY and p.default is not p.empty, p


@pytest.mark.parametrize("name", NAMES)
def test_protocol(name):
    torch.manual_seed(0)
    spec = SPECS[name]
    model = build(name, **FAST.get(name, {})).eval()
    assert isinstance(model, ZooModel)
    cfg = model.pretrained_cfg
    assert set(cfg) >= {"mean", "std", "input_size", "crop_pct", "interpolation",
                        "num_classes", "labels"}
    assert len(cfg["mean"]) == len(cfg["std"]) == spec.in_chans
    assert cfg["input_size"] == spec.input_size and cfg["num_classes"] == spec.num_classes
    size = {"alexnet": 64, "googlenet": 32, "lenet5": 32, "unet": 32}[name]
    x = torch.randn(2, spec.in_chans, size, size)
    head = model.get_classifier()
    fan_in = head.in_features if isinstance(head, nn.Linear) else head.in_channels
    assert fan_in == model.num_features
    with torch.no_grad():
        feats = model.forward_features(x)
        pre = model.forward_head(feats, pre_logits=True)
        assert pre.shape[1] == model.num_features
        model.reset_classifier(7)
        assert model.num_classes == 7
        assert model(x).shape[1] == 7
        model.reset_classifier(0)
        assert isinstance(model.get_classifier(), nn.Identity)
        assert model(x).shape == pre.shape


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "googlenet", "unet"])
def test_in_chans(name):
    model = build(name, in_chans=4, **FAST.get(name, {})).eval()
    size = 32 if name in ("lenet5", "unet", "googlenet") else 64
    with torch.no_grad():
        out = model(torch.randn(1, 4, size, size))
    assert out.shape[1] == SPECS[name].num_classes
    assert len(model.pretrained_cfg["mean"]) == 4


def test_googlenet_transform_input_needs_rgb():
    with pytest.raises(ValueError, match="in_chans=3"):
        build_googlenet(in_chans=1, transform_input=True)


# -- stages and features --------------------------------------------------------------
def _assert_partition(model: nn.Module, stage_modules) -> None:
    for param, _ in model.named_parameters():
        owners = owning_stages(param, stage_modules)
        assert len(owners) == 1, f"{param} is in stages {owners}"
    for stage in stage_modules:
        assert any(owning_stages(p, {stage: stage_modules[stage]})
                   for p, _ in model.named_parameters()), f"stage {stage} owns no parameter"


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [("lenet5", {}), ("alexnet", {}), ("googlenet", {}), ("googlenet", {"aux_logits": True}),
     ("unet", {})],
)
def test_every_parameter_is_in_exactly_one_stage(name, kwargs):
    spec = SPECS[name]
    assert tuple(spec.stage_modules) == spec.stages
    model = build(name, meta=True, **kwargs)
    _assert_partition(model, spec.stage_modules)


def test_unet_instance_stages_match_the_spec():
    model = build("unet", meta=True)
    assert model.stages == SPECS["unet"].stages
    assert dict(model.stage_modules) == dict(SPECS["unet"].stage_modules)


def test_unet_timm_encoder_stages(timm_encoder):
    model = build_unet(encoder=timm_encoder)
    assert model.stages == ("stem", "stage1", "stage2", "stage3", "stage4", "decoder", "head")
    _assert_partition(model, model.stage_modules)


@pytest.mark.parametrize("name", NAMES)
def test_feature_info_matches_hooked_outputs(name):
    spec = SPECS[name]
    model = build(name, meta=True).eval()
    declared = [(f.module, f.num_chs, f.reduction) for f in spec.feature_info]
    assert [(f["module"], f["num_chs"], f["reduction"]) for f in model.feature_info] == declared
    measured, shapes = measure_features(
        model, [m for m, _, _ in declared], spec.in_chans, PROBE_SIZES[name]
    )
    assert measured == [(c, float(r)) for _, c, r in declared]
    if name in ("googlenet", "unet"):  # same-padded: the plain ratio is exact too
        size = PROBE_SIZES[name][1]
        for (module, _, red) in declared:
            assert size / shapes[size][module][-1] == red
    # the CAM layer exists and gives a spatial map
    cam = dict(model.named_modules())[spec.cam_layer]
    assert cam is not None


def test_timm_encoder_unet_feature_info_is_measured(timm_encoder):
    model = build_unet(encoder=timm_encoder).eval()
    modules = [f["module"] for f in model.feature_info]
    measured, _ = measure_features(model, modules, 3, (64, 128), device="cpu")
    assert measured == [(f["num_chs"], float(f["reduction"])) for f in model.feature_info]


# -- the catalog ----------------------------------------------------------------------
def test_catalog_modules_do_not_import_torch():
    code = (
        "import cnnzoo.catalog.lenet, cnnzoo.catalog.alexnet, cnnzoo.catalog.googlenet, "
        "cnnzoo.catalog.unet; import sys; "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "assert 'torchvision' not in sys.modules and 'timm' not in sys.modules"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr


def test_specs_are_discovered_through_entry_points():
    from cnnzoo.spec import Registry

    registry = Registry()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert registry.get("lenet").name == "lenet5"
        assert registry.get("inception_v1").name == "googlenet"
        assert registry.get("alexnet").family == "alexnet"
        unet = registry.get("unet")
    assert unet.task == "segmentation" and "encoder=" in unet.description
    assert registry.get("googlenet").checkpoint_converters["torchvision"].endswith(
        ":convert_torchvision")
