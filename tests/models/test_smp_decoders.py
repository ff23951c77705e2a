"""smp-compatible decoders on zoo encoders: counts and outputs equal smp's, clear errors.

segmentation_models_pytorch is a test dependency (the ``dev`` extra). Its models are
built with its default settings and ``encoder_weights=None``, their BatchNorm
statistics taken from a training-mode pass over a random batch; their state dicts
load through ``cnnzoo.create(name, checkpoint_path=...)`` with the ``smp`` converter.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

import cnnzoo
from cnnzoo.errors import CheckpointError, InputSizeError, ModelOptionError, UnknownModelError
from cnnzoo.models.converters.smp import SMP_RESNET
from cnnzoo.spec import REGISTRY, ModelSpec

smp = pytest.importorskip("segmentation_models_pytorch")

# (cnnzoo name, smp class, encoder)
CASES = [
    ("smp_unet", "Unet", "resnet34"),
    ("unetplusplus", "UnetPlusPlus", "resnet34"),
    ("fpn", "FPN", "resnet34"),
    ("deeplabv3plus", "DeepLabV3Plus", "resnet34"),
    ("deeplabv3plus", "DeepLabV3Plus", "resnet50"),
    ("pspnet", "PSPNet", "resnet34"),
    ("linknet", "Linknet", "resnet34"),
]


def _smp_model(cls_name: str, encoder: str, **kwargs) -> nn.Module:
    """smp's model (its defaults) with BatchNorm statistics of one random batch."""
    torch.manual_seed(0)
    model = getattr(smp, cls_name)(encoder, encoder_weights=None, **kwargs)
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.momentum = None
    with torch.no_grad():
        model.train()(torch.randn(2, 3, 64, 64))
    return model.eval()


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(("name", "cls_name", "encoder"), CASES)
def test_param_count_and_outputs_equal_smp(name, cls_name, encoder, tmp_path):
    reference = _smp_model(cls_name, encoder)  # smp's defaults, classes=1
    path = tmp_path / "smp.pth"
    torch.save(reference.state_dict(), path)
    model = cnnzoo.create(name, encoder=encoder, num_classes=1, checkpoint_path=path).eval()
    assert _count(model) == _count(reference)
    assert [n for n, _ in model.named_children()] == ["encoder", "decoder", "segmentation_head"]
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = reference(x)
        out = model(x)
        split = model.forward_head(model.forward_features(x))
    assert out.shape == expected.shape == (2, 1, 64, 64)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(split, expected, rtol=1e-5, atol=1e-5)
    if name == "smp_unet":  # smp's Unet takes any size, and so does ours
        odd = torch.randn(1, 3, 50, 70)
        with torch.no_grad():
            torch.testing.assert_close(model(odd), reference(odd), rtol=1e-5, atol=1e-5)
    del reference, model


def test_default_builds_match_the_spec_and_smp_defaults():
    with torch.device("meta"):
        dlv3 = cnnzoo.create("deeplabv3plus")
        psp = cnnzoo.create("pspnet")
    assert dlv3.size_multiple == 16 and [d["reduction"] for d in dlv3.feature_info] == [
        2, 4, 8, 16, 16]
    assert dlv3.encoder.model.layer4[0].conv1.dilation == (2, 2)  # smp's dilation, every conv
    assert dlv3.decoder.aspp[0].convs[1][0][0].dilation == (12, 12)
    assert psp.size_multiple == 8 and psp.encoder_depth == 3
    assert cnnzoo.model_info("fpn").checkpoint_converters == {
        "smp": "cnnzoo.models.converters.smp:SMP_RESNET"}


# -- the converter ------------------------------------------------------------------------
def test_smp_converter_renames_the_encoder_and_passes_the_rest():
    state = {"encoder.conv1.weight": torch.zeros(64, 3, 7, 7),
             "encoder.layer1.0.bn1.running_mean": torch.zeros(64),
             "decoder.blocks.0.conv1.0.weight": torch.zeros(1),
             "segmentation_head.0.bias": torch.zeros(1)}
    assert sorted(SMP_RESNET(state)) == [
        "decoder.blocks.0.conv1.0.weight", "encoder.model.conv1.weight",
        "encoder.model.layer1.0.bn1.running_mean", "segmentation_head.0.bias"]
    with pytest.raises(ValueError, match="aux_params classification head"):
        SMP_RESNET({**state, "classification_head.3.weight": torch.zeros(1)})
    with pytest.raises(ValueError, match="not a ResNet"):
        SMP_RESNET({"encoder._conv_stem.weight": torch.zeros(1)})


def test_a_checkpoint_that_does_not_convert_names_the_reason(tmp_path):
    reference = smp.Linknet("resnet18", encoder_weights=None, classes=2,
                            aux_params={"classes": 2})
    path = tmp_path / "aux.pth"
    torch.save(reference.state_dict(), path)
    with pytest.raises(CheckpointError, match=r"smp \(smp: no conversion rule .*classification"):
        cnnzoo.create("linknet", encoder="resnet18", checkpoint_path=path)


# -- any zoo encoder, and clear errors ------------------------------------------------------
@pytest.mark.parametrize(("name", "encoder", "kwargs"), [
    ("smp_unet", "efficientnet_b0", {}),
    ("fpn", "convnext_tiny", {}),  # strides 4-32: an empty stride-2 map, as smp
    ("unetplusplus", "vgg11_bn", {}),  # strides 1-32: the first map is at input size
    ("deeplabv3plus", "mobilenetv3_large_100", {}),
    ("linknet", "tinynet", {"encoder_depth": 3}),  # the example plugin
    ("pspnet", "squeezenet1_1", {}),  # an unpadded stem: resized back to the input
])
def test_any_zoo_encoder(name, encoder, kwargs):
    with torch.device("meta"):
        model = cnnzoo.create(name, encoder=encoder, num_classes=3, **kwargs).eval()
        out = model(torch.empty(1, 3, 64, 64))
    assert out.shape == (1, 3, 64, 64)
    assert model.pretrained_cfg["architecture"] == name
    assert model.pretrained_cfg["model_args"]["encoder"] == encoder


def test_an_input_size_off_the_stride_names_the_nearest_valid_sizes():
    with torch.device("meta"):
        fpn = cnnzoo.create("fpn")
        dlv3 = cnnzoo.create("deeplabv3plus")
        unet = cnnzoo.create("smp_unet")
    with pytest.raises(InputSizeError, match=r"multiples of 32 .* got 64×65\. Nearest valid "
                                             r"sizes: height 64, width 64 or 96"):
        fpn(torch.empty(1, 3, 64, 65, device="meta"))
    with pytest.raises(InputSizeError, match=r"multiples of 16 .*height 32 or 48, width 16"):
        dlv3(torch.empty(1, 3, 40, 10, device="meta"))
    # Unet takes any size
    assert unet.eval()(torch.empty(1, 3, 50, 70, device="meta")).shape[-2:] == (50, 70)
    assert issubclass(InputSizeError, ValueError)


def test_an_encoder_that_cannot_give_features_is_a_clear_error():
    base = cnnzoo.model_info("resnet18")
    REGISTRY.register(ModelSpec(name="flatnet_test", family="flatnet", task="classification",
                                builder=base.builder, builder_args=base.builder_args))
    try:
        with pytest.raises(ModelOptionError, match="declares no feature stages"):
            cnnzoo.create("fpn", encoder="flatnet_test")
    finally:
        REGISTRY.unregister("flatnet_test")
    with pytest.raises(ModelOptionError, match="features_only module"):
        cnnzoo.create("fpn", encoder=nn.Conv2d(3, 8, 3))
    with pytest.raises(UnknownModelError, match="resnet34"):
        cnnzoo.create("fpn", encoder="resnet33")
    with pytest.raises(ModelOptionError, match="down-samples with MaxPool2d"):
        cnnzoo.create("deeplabv3plus", encoder="vgg11_bn")
    with pytest.raises(ModelOptionError, match=r"encoder_depth=5: .* choose 1…3"):
        cnnzoo.create("smp_unet", encoder="tinynet")
    with pytest.raises(ModelOptionError, match="encoder_output_stride must be 8 or 16"):
        cnnzoo.create("deeplabv3plus", encoder_output_stride=32)
    with pytest.raises(ModelOptionError, match="decoder_attention_type"):
        cnnzoo.create("smp_unet", decoder_attention_type="cbam")


# -- real data ------------------------------------------------------------------------------
def test_linknet_learns_the_digits_ink_masks():
    """One short epoch on real images reaches the 0.90 mIoU goal of the full benchmark.

    scripts/segmentation_digits.py trains every decoder at 64×64 on all 1,437 training
    images (bench/results/segmentation_digits.json); to stay near 30 s on two busy
    cores this trains the cheapest one, Linknet, on a random ResNet-18 at 32×32, on 768
    of them for one epoch (measured: test mIoU 0.93), and asks for the same 0.90.
    """
    from torch.utils.data import Subset

    from cnnzoo.data import digits_segmentation

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = cnnzoo.create("linknet", encoder="resnet18", in_chans=1, num_classes=2)
        split = digits_segmentation((1, 32, 32), model=model)
        history = cnnzoo.fit(model, Subset(split.train, range(768)), split.test, epochs=1,
                             lr=3e-3, seed=0, progress=False)
    finally:
        torch.set_num_threads(threads)
    assert history.task == "segmentation"
    assert history.last["val_miou"] >= 0.90, history.last


@pytest.mark.parametrize("stride", [8, 16])
def test_a_dilated_encoder_reports_the_strides_it_has(stride):
    model = cnnzoo.create("deeplabv3plus", encoder="resnet18", encoder_output_stride=stride)
    expected = [min(r, stride) for r in (2, 4, 8, 16, 32)]
    assert model.encoder.feature_info.reduction() == expected
    assert [f["reduction"] for f in model.feature_info] == expected
    with torch.no_grad():
        maps = model.encoder(torch.zeros(1, 3, 64, 64))
    assert [64 // m.shape[-1] for m in maps] == expected
