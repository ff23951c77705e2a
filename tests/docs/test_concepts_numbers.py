"""The numbers on the Concepts pages equal an independent computation.

The pages compute their tables with cnnzoo at build time; these tests recompute a
selection of them another way — torchvision's own modules, timm's own models, a formula,
a direct forward pass — and compare them with what the built site shows, in English and
in Japanese.
"""

from __future__ import annotations

import math
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
import torch
from torch import nn

from tests.docs.helpers import Build

pytestmark = pytest.mark.slow
LANGUAGES = ("", "ja/")


@pytest.fixture(scope="module")
def site(docs_build: Build) -> Path:
    docs_build.check()
    return docs_build.site


class _Tables(HTMLParser):
    """Every <table> of a page as a list of rows of cell texts (header row first)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            self.tables[-1].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(site: Path, page: str, lang: str) -> list[list[dict[str, str]]]:
    """The page's tables, each a list of {header: cell} rows."""
    parser = _Tables()
    parser.feed((site / lang / "concepts" / page / "index.html").read_text(encoding="utf-8"))
    return [[dict(zip(t[0], row, strict=False)) for row in t[1:]] for t in parser.tables if t]


def table_with(site: Path, page: str, lang: str, header: str) -> list[dict[str, str]]:
    found = [t for t in tables(site, page, lang) if t and header in t[0]]
    assert found, f"/{lang}concepts/{page}: no table with a {header!r} column"
    return found[0]


def number(cell: str) -> float:
    match = re.search(r"-?[\d,]+(?:\.\d+)?(?:e[+-]?\d+)?", cell.replace("**", ""))
    assert match, cell
    return float(match.group().replace(",", ""))


def conv_bn_params(module: nn.Module) -> int:
    """The parameters of a block, summed over its Conv2d and BatchNorm2d modules."""
    return sum(p.numel() for m in module.modules() if isinstance(m, (nn.Conv2d, nn.BatchNorm2d))
               for p in m.parameters(recurse=False))


@pytest.fixture(scope="module")
def torchvision_models():
    torchvision = pytest.importorskip("torchvision")
    with torch.device("meta"):
        return {"resnet34": torchvision.models.resnet34(),
                "resnet50": torchvision.models.resnet50(),
                "googlenet": torchvision.models.googlenet(init_weights=False, aux_logits=False),
                "densenet121": torchvision.models.densenet121()}


# --------------------------------------------------------------------------- architecture


@pytest.mark.parametrize("lang", LANGUAGES)
def test_residual_blocks_match_torchvision(site: Path, lang: str, torchvision_models) -> None:
    rows = table_with(site, "residual-connections", lang, "Params, first block")
    network = {"ResNet-34": "resnet34", "ResNet-50": "resnet50"}
    assert len(rows) == 8
    for row in rows:
        stage = torchvision_models[network[row["Network"]]].get_submodule(row["Stage"])
        assert number(row["Params, first block"]) == conv_bn_params(stage[0]), row
        assert number(row["Params, each other block"]) == conv_bn_params(stage[1]), row
        assert number(row["Params, stage"]) == conv_bn_params(stage), row
    # the bottleneck block, layer by layer: its total is the sum over torchvision's modules
    bottleneck = torchvision_models["resnet50"].layer1[0]
    assert conv_bn_params(bottleneck) == 75_008
    layer_tables = [t for t in tables(site, "residual-connections", lang)
                    if t and "Module" in t[0] and any(r["Module"] == "downsample.0" for r in t)]
    (layers,) = layer_tables
    assert number(layers[-1]["Parameters"]) == conv_bn_params(bottleneck)
    for row in layers[:-1]:
        module = bottleneck.get_submodule(row["Module"])
        assert number(row["Parameters"]) == sum(p.numel() for p in module.parameters()), row


@pytest.mark.parametrize("lang", LANGUAGES)
def test_bottleneck_against_a_wide_basic_block(site: Path, lang: str, torchvision_models) -> None:
    from torchvision.models.resnet import BasicBlock

    rows = table_with(site, "residual-connections", lang, "MACs at 256×56×56")
    with torch.device("meta"):
        wide = BasicBlock(256, 256)
    narrow = torchvision_models["resnet50"].layer1[1]
    assert number(rows[0]["Parameters"]) == conv_bn_params(narrow)
    assert number(rows[1]["Parameters"]) == conv_bn_params(wide)
    # MACs of the convolutions at 56×56 (stride 1, same padding): k² · C_in · C_out · 56²
    for row, block in ((rows[0], narrow), (rows[1], wide)):
        macs = sum(m.weight.numel() * 56 * 56 for m in block.modules()
                   if isinstance(m, nn.Conv2d))
        assert number(row["MACs at 256×56×56"]) == round(macs / 1e6), row


@pytest.mark.parametrize("lang", LANGUAGES)
def test_gradient_table_shows_the_effect(site: Path, lang: str) -> None:
    rows = table_with(site, "residual-connections", lang, "first ÷ last")
    spread = {(r["Stack"], r["BatchNorm"]): number(r["first ÷ last"]) for r in rows}
    assert spread["plain", "—"] < 1e-6  # vanishing towards the input
    assert spread["plain", "✓"] > 10  # exploding towards the input
    assert 1e-2 < spread["residual", "—"] < 1e2 and 1e-2 < spread["residual", "✓"] < 1e2


@pytest.mark.parametrize("lang", LANGUAGES)
def test_efficientnet_scaling_table_matches_timm(site: Path, lang: str) -> None:
    timm = pytest.importorskip("timm")
    from timm.models._efficientnet_builder import round_channels

    rows = table_with(site, "compound-scaling", lang, "Blocks per stage")
    assert [r["Model"] for r in rows] == [f"efficientnet_b{i}" for i in range(8)]
    with torch.device("meta"):
        b0 = timm.create_model("efficientnet_b0")
    b0_blocks = [len(stage) for stage in b0.blocks]
    b0_channels = [stage[-1].conv_pw.out_channels if i == 0 else stage[-1].conv_pwl.out_channels
                   for i, stage in enumerate(b0.blocks)]
    for row in rows:
        with torch.device("meta"):
            model = timm.create_model(row["Model"])
        blocks = [len(stage) for stage in model.blocks]
        channels = [stage[-1].conv_pw.out_channels if i == 0 else
                    stage[-1].conv_pwl.out_channels for i, stage in enumerate(model.blocks)]
        assert [int(v) for v in row["Blocks per stage"].split("·")] == blocks, row
        assert int(row["Blocks"]) == sum(blocks)
        assert [int(v) for v in row["Channels per stage"].split("·")] == channels, row
        assert int(row["Head channels"]) == model.conv_head.out_channels
        # the multipliers on the page produce timm's model from B0's definition
        width, depth = number(row["Width ×"]), number(row["Depth ×"])
        assert blocks == [math.ceil(n * depth) for n in b0_blocks], row
        assert channels == [round_channels(c, width) for c in b0_channels], row


@pytest.mark.parametrize("lang", LANGUAGES)
def test_inception_and_densenet_match_torchvision(site: Path, lang: str,
                                                  torchvision_models) -> None:
    branches = table_with(site, "multi-branch", lang, "Receptive field in the module")
    module = torchvision_models["googlenet"].inception3a
    for row in branches[:4]:
        name = row["Branch"]
        assert number(row["Parameters"]) == conv_bn_params(module.get_submodule(name)), row
    assert number(branches[4]["Parameters"]) == conv_bn_params(module)
    dense = table_with(site, "multi-branch", lang, "New channels")
    block = torchvision_models["densenet121"].features.denseblock1
    for row in dense[:-1]:
        layer = block.get_submodule(row["Layer"].removeprefix("denseblock1."))
        assert number(row["Parameters"]) == conv_bn_params(layer), row
        assert int(row["Input channels"]) == layer.conv1.in_channels
    transition = torchvision_models["densenet121"].features.transition1
    assert number(dense[-1]["Parameters"]) == conv_bn_params(transition)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_separable_convolution_formula(site: Path, lang: str) -> None:
    rows = table_with(site, "depthwise-separable", lang, "Separable: params")
    for row in rows:
        c = int(row["Channels"])
        n = int(row["Input"].split("×")[-1])
        assert number(row["Standard 3×3: params"]) == 9 * c * c
        assert number(row["Separable: params"]) == 9 * c + c * c
        assert number(row["Standard: MACs"]) == round(9 * c * c * n * n / 1e6, 1)
        assert number(row["Separable: MACs"]) == round((9 * c + c * c) * n * n / 1e6, 1)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_unet_encoder_shapes_match_timm(site: Path, lang: str) -> None:
    timm = pytest.importorskip("timm")
    rows = table_with(site, "encoder-decoder", lang, "Reduction")
    with torch.device("meta"):
        encoder = timm.create_model("resnet18", features_only=True)
        shapes = [tuple(f.shape[1:]) for f in encoder(torch.empty(1, 3, 256, 256))]
    assert [tuple(int(v) for v in r["Output"].split("×")) for r in rows] == shapes
    assert [int(r["Reduction"]) for r in rows] == encoder.feature_info.reduction()


# --------------------------------------------------------------------------- anti-patterns


@pytest.fixture(scope="module")
def lenet_and_digits():
    import cnnzoo
    from cnnzoo.data import digits

    model = cnnzoo.create("lenet5", pretrained=True).eval()
    return model, digits(model=model), digits(model=model, normalize=False)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_rotated_digits_are_read_as_the_other(site: Path, lang: str, lenet_and_digits) -> None:
    model, split, _ = lenet_and_digits
    images, labels = split.train.tensors
    rows = table_with(site, "label-breaking-augmentation", lang, "Read as 9")
    for row in rows:
        digit = int(row["Digit"])
        with torch.no_grad():
            guesses = model(torch.rot90(images[labels == digit], 2, dims=(-2, -1))).argmax(1)
        assert number(row["Read as 6"]) == int((guesses == 6).sum()), row
        assert number(row["Read as 9"]) == int((guesses == 9).sum()), row


@pytest.mark.parametrize("lang", LANGUAGES)
def test_normalisation_accuracies(site: Path, lang: str, lenet_and_digits) -> None:
    model, right, raw = lenet_and_digits
    rows = table_with(site, "wrong-normalisation", lang, "Preprocessing")

    def accuracy(x: torch.Tensor, y: torch.Tensor) -> float:
        with torch.no_grad():
            return round(100 * (model(x).argmax(1) == y).float().mean().item(), 1)

    images, labels = raw.test.tensors
    assert number(rows[0]["Accuracy"]) == accuracy(*right.test.tensors)
    assert number(rows[1]["Accuracy"]) == accuracy(images, labels)
    assert number(rows[2]["Accuracy"]) == accuracy(images * 255, labels)
