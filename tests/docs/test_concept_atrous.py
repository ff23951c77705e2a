"""The numbers on the atrous-convolution Concepts page equal an independent computation.

The page computes its tables with ``cnnzoo.analysis`` at build time. Here the same
models are rebuilt from their own libraries — torchvision's ResNet-50 and DeepLabV3,
segmentation_models_pytorch's dilated encoder and DeepLabV3+ — on the ``meta`` device,
run forward on a 512×512 tensor with hooks on every convolution, and compared with the
built site in English and Japanese: feature-map shapes from the forward pass, receptive
fields and jumps from the closed form r ← r + (k − 1)·d·j, j ← s·j along the main path,
MACs from each convolution's output size, and the ASPP's tap spacing and share of taps
on the map from their formulas.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from tests.docs.helpers import Build
from tests.docs.test_concepts_numbers import number, table_with

pytestmark = pytest.mark.slow
LANGUAGES = ("", "ja/")
PAGE = "atrous-convolution"
SIZE = 512
STAGES = ("conv1", "layer1", "layer2", "layer3", "layer4")

@pytest.fixture(scope="module")
def site(docs_build: Build) -> Path:
    docs_build.check()
    return docs_build.site

@pytest.fixture(scope="module")
def reference():
    """The page's four encoders (and whole models), built by their own libraries."""
    torchvision = pytest.importorskip("torchvision")
    smp = pytest.importorskip("segmentation_models_pytorch")
    with torch.device("meta"):
        deeplab = {os: smp.DeepLabV3Plus("resnet50", encoder_weights=None, classes=2,
                                         encoder_output_stride=os) for os in (16, 8)}
        tv_deeplab = torchvision.models.segmentation.deeplabv3_resnet50(
            weights=None, weights_backbone=None, num_classes=21, aux_loss=False)
        resnet50 = torchvision.models.resnet50()
    return {  # label: (output stride, encoder, whole model)
        "ResNet-50": (32, resnet50, resnet50),
        "DeepLabV3+ (OS 16)": (16, deeplab[16].encoder, deeplab[16]),
        "DeepLabV3+ (OS 8)": (8, deeplab[8].encoder, deeplab[8]),
        "torchvision DeepLabV3": (8, tv_deeplab.backbone, tv_deeplab),
    }


@pytest.fixture(scope="module")
def measured(reference):
    """Per model: stage shapes, stage MACs, encoder MACs and whole-model MACs."""
    out = {}
    for label, (_, encoder, model) in reference.items():
        shapes, macs = forward_with_hooks(encoder)
        encoder_macs = sum(v for top, v in macs.items() if top != "fc")
        out[label] = shapes, macs, encoder_macs, sum(forward_with_hooks(model)[1].values())
    return out

def closed_form(resnet: nn.Module) -> dict[str, tuple[int, int]]:
    """(receptive field, jump) after each stage, along the bottleneck's main path.

    The 1×1 shortcut adds nothing to the field, so the main path is the longest one.
    """
    def step(state: tuple[int, int], layer: nn.Module) -> tuple[int, int]:
        field, jump = state
        k, s, d = (v if isinstance(v, int) else v[0] for v in
                   (layer.kernel_size, layer.stride, getattr(layer, "dilation", 1)))
        return field + (k - 1) * d * jump, jump * s

    state, out = step((1, 1), resnet.conv1), {}
    out["conv1"] = state
    state = step(state, resnet.maxpool)
    for stage in STAGES[1:]:
        for block in resnet.get_submodule(stage):
            for conv in (block.conv1, block.conv2, block.conv3):
                state = step(state, conv)
        out[stage] = state
    return out

def forward_with_hooks(model: nn.Module) -> tuple[dict[str, tuple[int, ...]], dict[str, int]]:
    """Output shape of each stage and MACs of the convolutions (and linear layers) under
    each top-level module, from one forward pass on a 512×512 meta tensor."""
    shapes: dict[str, tuple[int, ...]] = {}
    macs: dict[str, int] = {}
    hooks = []

    def count(prefix: str):
        def hook(module: nn.Module, args, output: torch.Tensor) -> None:
            if isinstance(module, nn.Conv2d):
                kh, kw = module.kernel_size
                taps = module.in_channels // module.groups * kh * kw
            else:
                taps = module.in_features
            macs[prefix] = macs.get(prefix, 0) + output.numel() * taps
        return hook

    for name, module in model.named_modules():
        top = name.split(".")[0]
        if isinstance(module, nn.Conv2d | nn.Linear):
            hooks.append(module.register_forward_hook(count(top)))
        if name in STAGES:
            hooks.append(module.register_forward_hook(
                lambda m, a, out, name=name: shapes.__setitem__(name, tuple(out.shape[1:]))))
    with torch.device("meta"), torch.no_grad():
        model.eval()(torch.empty(1, 3, SIZE, SIZE))
    for hook in hooks:
        hook.remove()
    return shapes, macs

@pytest.mark.parametrize("lang", LANGUAGES)
def test_stage_table_matches_a_forward_pass(site: Path, lang: str, reference,
                                            measured) -> None:
    rows = table_with(site, PAGE, lang, "Dilation")
    assert [(r["Model"], r["Stage"]) for r in rows] == [
        (label, stage) for label in reference for stage in STAGES]
    for label, (os, encoder, _) in reference.items():
        shapes, macs, _, _ = measured[label]
        fields = closed_form(encoder)
        for row in (r for r in rows if r["Model"] == label):
            stage = row["Stage"]
            assert int(row["Output stride"]) == os
            assert tuple(int(v) for v in row["Feature map"].split("×")) == shapes[stage], row
            assert (int(row["Receptive field"]), int(row["Jump"])) == fields[stage], row
            assert number(row["GMACs"]) == round(macs[stage] / 1e9, 2), row
            if stage != "conv1":
                dilations = [b.conv2.dilation[0] for b in encoder.get_submodule(stage)]
                assert row["Dilation"] == "·".join(map(str, dilations)), row
        assert shapes["layer4"][-1] == SIZE // os
    # the page's claims: torchvision keeps the classifier's fields, smp's rule widens them
    fields = {label: closed_form(enc)["layer4"] for label, (_, enc, _) in reference.items()}
    assert fields["torchvision DeepLabV3"][0] == fields["ResNet-50"][0] == 427
    assert fields["DeepLabV3+ (OS 16)"][0] > fields["ResNet-50"][0]

@pytest.mark.parametrize("lang", LANGUAGES)
def test_cost_table_matches_a_forward_pass(site: Path, lang: str, reference,
                                           measured) -> None:
    rows = {r["Model"]: r for r in table_with(site, PAGE, lang, "Whole model GMACs")}
    assert list(rows) == list(reference)
    for label, (os, encoder, _) in reference.items():
        row, (_, _, encoder_macs, whole) = rows[label], measured[label]
        params = sum(p.numel() for name, p in encoder.named_parameters()
                     if not name.startswith("fc."))
        assert number(row["Encoder parameters"]) == params == 23_508_032, row
        assert number(row["Encoder GMACs"]) == round(encoder_macs / 1e9, 1), row
        assert number(row["Whole model GMACs"]) == round(whole / 1e9, 1), row
        assert row["Last feature map"] == f"{SIZE // os}×{SIZE // os}"

@pytest.mark.parametrize("lang", LANGUAGES)
def test_aspp_table_follows_the_formulas(site: Path, lang: str, reference) -> None:
    rows = table_with(site, PAGE, lang, "Tap spacing")
    tv_aspp = reference["torchvision DeepLabV3"][2].classifier[0]
    tv_rates = [branch[0].dilation[0] for branch in list(tv_aspp.convs)[1:4]]
    expected = {  # label: (output stride, its encoder in `reference`, rates)
        "DeepLabV3+, smp's rates": (16, "DeepLabV3+ (OS 16)", [12, 24, 36]),
        "DeepLabV3+, the paper's rates": (16, "DeepLabV3+ (OS 16)", [6, 12, 18]),
        "DeepLabV3+": (8, "DeepLabV3+ (OS 8)", [12, 24, 36]),
        "torchvision DeepLabV3": (8, "torchvision DeepLabV3", tv_rates),
    }
    assert tv_rates == [12, 24, 36]
    assert [(r["Model"], int(r["Rate"])) for r in rows] == [
        (label, rate) for label, (_, _, rates) in expected.items() for rate in rates]
    for row in rows:
        os, encoder, _ = expected[row["Model"]]
        rate, side = int(row["Rate"]), SIZE // os
        field, jump = closed_form(reference[encoder][1])["layer4"]
        assert jump == os and int(row["Output stride"]) == os
        assert row["Tap spacing"] == f"{rate * os} px"
        assert int(row["Receptive field"]) == field + 2 * rate * jump, row
        # per axis a tap at ±rate is on the map at n − rate of the n positions
        share = ((1 + 2 * max(0, side - rate) / side) / 3) ** 2
        assert number(row["Taps on the map"]) == round(100 * share), row

@pytest.mark.parametrize("lang", LANGUAGES)
def test_toy_stacks_follow_the_formulas(site: Path, lang: str) -> None:
    rows = table_with(site, PAGE, lang, "MACs at 64×64")
    assert [r["Stack"] for r in rows] == ["plain", "strided", "dilated"]
    for row in rows:
        strides = [int(v) for v in row["Strides"].split("·")]
        dilations = [int(v) for v in row["Dilations"].split("·")]
        n, field, jump, params, macs, channels = 64, 1, 1, 0, 0, 3
        for s, d in zip(strides, dilations, strict=True):
            n = (n + 2 * d - 2 * d - 1) // s + 1  # k = 3, padding = dilation
            field, jump = field + 2 * d * jump, jump * s
            params += 9 * channels * 16 + 16
            macs += 9 * channels * 16 * n * n
            channels = 16
        assert row["Output"] == f"16×{n}×{n}"
        assert (int(row["Receptive field"]), int(row["Jump"])) == (field, jump), row
        assert number(row["Parameters"]) == params and number(row["MACs at 64×64"]) == macs
    by_stack = {r["Stack"]: r for r in rows}
    assert by_stack["dilated"]["Receptive field"] == by_stack["strided"]["Receptive field"]

def test_figures_are_built_and_small(site: Path) -> None:
    for lang in LANGUAGES:
        html = (site / lang / "concepts" / PAGE / "index.html").read_text(encoding="utf-8")
        for figure in ("atrous-sampling.png", "atrous-cost.png"):
            assert figure in html, (lang, figure)
    for figure in ("atrous-sampling.png", "atrous-cost.png"):
        assert 1_000 < (site / "concepts" / figure).stat().st_size < 100_000
