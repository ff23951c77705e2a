"""Tests of cnnzoo.analysis against hand-computed, published and empirical references."""

from __future__ import annotations

import ast
import doctest
import json
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.googlenet import BasicConv2d, Inception
from torchvision.models.resnet import BasicBlock

from cnnzoo import analysis
from cnnzoo.analysis import count_macs, count_params, receptive_field, summary

# ----------------------------------------------------------------------------- models


class LeNet5(nn.Module):
    """LeNet-5 as in LeCun et al. (1998), with tanh and average pooling."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.act1 = nn.Tanh()
        self.pool1 = nn.AvgPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.act2 = nn.Tanh()
        self.pool2 = nn.AvgPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(400, 120)
        self.act3 = nn.Tanh()
        self.fc2 = nn.Linear(120, 84)
        self.act4 = nn.Tanh()
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.act1(self.conv1(x)))
        x = self.pool2(self.act2(self.conv2(x)))
        x = self.act3(self.fc1(self.flatten(x)))
        return self.fc3(self.act4(self.fc2(x)))


def on_meta(builder: Callable[[], nn.Module]) -> nn.Module:
    """Build a torchvision model on the meta device: shapes only, so 224 px costs nothing."""
    with torch.device("meta"):
        return builder()


@pytest.fixture(scope="module")
def resnet18() -> nn.Module:
    return torchvision.models.resnet18(weights=None)


@pytest.fixture(scope="module")
def vgg16() -> nn.Module:
    return on_meta(lambda: torchvision.models.vgg16(weights=None))


# ----------------------------------------------------------------------------- LeNet-5


def test_lenet5_layer_table() -> None:
    table = summary(LeNet5(), (1, 32, 32))
    rows = {row.name: row for row in table.rows}

    assert table.total_params == 61_706
    assert table.trainable_params == 61_706
    assert table.input_size == (1, 32, 32)
    shapes = {
        "conv1": (6, 28, 28),
        "pool1": (6, 14, 14),
        "conv2": (16, 10, 10),
        "pool2": (16, 5, 5),
        "flatten": (400,),
        "fc1": (120,),
        "fc2": (84,),
        "fc3": (10,),
    }
    assert {name: rows[name].output_shape for name in shapes} == shapes
    # MACs = outputs x taps: 6*28*28 * 1*5*5, 16*10*10 * 6*5*5, 400*120, 120*84, 84*10.
    macs = {"conv1": 117_600, "conv2": 240_000, "fc1": 48_000, "fc2": 10_080, "fc3": 840}
    assert {name: rows[name].macs for name in macs} == macs
    assert all(rows[name].macs == 0 for name in ("act1", "pool1", "act2", "pool2", "flatten"))
    assert table.total_macs == sum(macs.values()) == 416_520
    assert [row.params for row in table.rows if row.params] == [156, 2_416, 48_120, 10_164, 850]

    # r_out = r_in + (k - 1) * j_in, j_out = j_in * s:
    # conv1 1 + 4*1 = 5 (j 1); pool1 5 + 1*1 = 6 (j 2); conv2 6 + 4*2 = 14 (j 2);
    # pool2 14 + 1*2 = 16 (j 4).
    fields = {name: (rows[name].receptive_field, rows[name].stride) for name in shapes}
    assert fields["conv1"] == (5, 1)
    assert fields["pool1"] == (6, 2)
    assert fields["conv2"] == (14, 2)
    assert fields["pool2"] == (16, 4)
    # Flattening is a reshape: every feature still sees one 16x16 window. fc1 mixes the
    # 5x5 positions: 16 + (5 - 1) * 4 = 32, the whole input.
    assert fields["flatten"] == (16, 4)
    assert [fields[name][0] for name in ("fc1", "fc2", "fc3")] == [32, 32, 32]


def test_lenet5_receptive_field_matches_summary() -> None:
    fields = receptive_field(LeNet5(), (1, 32, 32))
    assert list(fields)[:4] == ["conv1", "act1", "pool1", "conv2"]
    assert [fields[name] for name in ("conv1", "pool1", "conv2", "pool2")] == [
        (5, 1),
        (6, 2),
        (14, 2),
        (16, 4),
    ]


# ----------------------------------------------------------------------------- receptive fields


def test_vgg16_conv_receptive_fields(vgg16: nn.Module) -> None:
    # r_out = r_in + (k - 1) * j_in with 3x3 convs (k - 1 = 2) and 2x2/2 max pools (k - 1 = 1):
    #   block 1 (j 1):  1 + 2 = 3,    3 + 2 = 5;      pool  5 + 1 = 6,    j 2
    #   block 2 (j 2):  6 + 4 = 10,  10 + 4 = 14;     pool 14 + 2 = 16,   j 4
    #   block 3 (j 4): 16 + 8 = 24,  24 + 8 = 32,  32 + 8 = 40;   pool 40 + 4 = 44,  j 8
    #   block 4 (j 8): 44 + 16 = 60, 60 + 16 = 76, 76 + 16 = 92;  pool 92 + 8 = 100, j 16
    #   block 5 (j 16): 100 + 32 = 132, 132 + 32 = 164, 164 + 32 = 196; pool 196 + 16 = 212
    fields = receptive_field(vgg16, (3, 32, 32))
    convs = [
        name for name, module in vgg16.features.named_children() if isinstance(module, nn.Conv2d)
    ]
    assert len(convs) == 13
    got = [fields[f"features.{name}"] for name in convs]
    assert [rf for rf, _ in got] == [3, 5, 10, 14, 24, 32, 40, 60, 76, 92, 132, 164, 196]
    assert [jump for _, jump in got] == [1, 1, 2, 2, 4, 4, 4, 8, 8, 8, 16, 16, 16]
    assert fields["features.30"] == (212, 32)  # pool5


def test_resnet18_residual_receptive_field(resnet18: nn.Module) -> None:
    # conv1 7x7/2: 7 (j 2); maxpool 3x3/2: 7 + 2*2 = 11 (j 4).
    # Each BasicBlock adds two 3x3 convs, (k - 1) * j each; its shortcut (identity, or a
    # 1x1/2 conv centred like the 3x3/2 conv) sees less, so the union is the main path:
    #   layer1 (j 4):  11 + 4 * 2*4            = 43
    #   layer2 (j 8):  43 + 2*4 + 3 * 2*8      = 99
    #   layer3 (j 16): 99 + 2*8 + 3 * 2*16     = 211
    #   layer4 (j 32): 211 + 2*16 + 3 * 2*32   = 435
    fields = receptive_field(resnet18, (3, 64, 64))
    assert fields["maxpool"] == (11, 4)
    assert fields["layer1"] == (43, 4)
    assert fields["layer2"] == (99, 8)
    assert fields["layer3"] == (211, 16)
    assert fields["layer4"] == (435, 32)
    # Inside a block the ReLU runs twice: after conv1 (layer4.0 gives 211 + 2*16 + 2*32
    # = 307, conv1 adds 2*32: 371) and after the addition (435).
    assert fields["layer4.1.relu"] == (371, 32)
    assert fields["layer4.1.relu#2"] == (435, 32)


# ----------------------------------------------------------------------------- empirical check


def _positive(model: nn.Module) -> nn.Module:
    """All weights positive (eval-mode batch norm included): nothing cancels, nothing dies."""
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for param in model.parameters():
            param.copy_(torch.rand(param.shape, generator=gen) * 0.5 + 0.5)
    return model.double().eval()


def empirical_rf(model: nn.Module, layer: nn.Module, in_chans: int, size: int, probes: int) -> int:
    """The widest gradient support, in input rows, of ``probes`` units around the centre."""
    outputs = []
    handle = layer.register_forward_hook(lambda m, i, o: outputs.append(o))
    x = torch.ones(1, in_chans, size, size, dtype=torch.float64, requires_grad=True)
    try:
        model(x)
    finally:
        handle.remove()
    out = outputs[0]
    height, centre = out.shape[-2], out.shape[-1] // 2
    widest = 0
    first = max(height // 2 - probes // 2, 0)
    for i in range(first, min(first + probes, height)):
        (grad,) = torch.autograd.grad(out[0, :, i, centre].sum(), x, retain_graph=True)
        rows = (grad[0].abs().sum(dim=(0, 2)) > 0).nonzero().flatten()
        if rows.min() > 0 and rows.max() < size - 1:  # not clipped by the input's border
            widest = max(widest, int(rows.max() - rows.min() + 1))
    assert widest, "every probed unit's support touches the border: use a larger input"
    return widest


class TinyResNet18(nn.Module):
    """resnet18's geometry (torchvision BasicBlocks) with 2 channels; max pool → avg pool.

    Max pooling routes the gradient to one input only, so the stand-in keeps the window.
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 2, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(2)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.AvgPool2d(3, 2, 1)
        stages = []
        for stride in (1, 2, 2, 2):
            down = None
            if stride != 1:
                down = nn.Sequential(nn.Conv2d(2, 2, 1, stride, bias=False), nn.BatchNorm2d(2))
            stages.append(nn.Sequential(BasicBlock(2, 2, stride, down), BasicBlock(2, 2)))
        self.layer1, self.layer2, self.layer3, self.layer4 = stages

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


class OffsetBranches(nn.Module):
    """Two branches whose windows are offset: the union (4) exceeds either field (3)."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(1, 1, 3)
        self.b = nn.Conv2d(1, 1, 3, padding=1)
        self.out = nn.Conv2d(1, 1, 3, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.a(x) + self.b(x)[:, :, :-2, :-2])


class MiniUNet(nn.Module):
    """A two-level UNet: skip concatenations around transposed convs or upsampling."""

    def __init__(self, up: str) -> None:
        super().__init__()

        def block(cin: int) -> nn.Sequential:
            return nn.Sequential(nn.Conv2d(cin, 2, 3, padding=1), nn.ReLU())

        def upsample() -> nn.Module:
            if up == "transposed":
                return nn.ConvTranspose2d(2, 2, 2, 2)
            return nn.Upsample(scale_factor=2, mode=up)

        self.enc1, self.enc2, self.bottom = block(1), block(2), block(2)
        self.pool = nn.AvgPool2d(2)
        self.up2, self.up1 = upsample(), upsample()
        self.dec2, self.dec1 = block(4), block(4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s1 = self.enc1(x)
        s2 = self.enc2(self.pool(s1))
        y = self.bottom(self.pool(s2))
        y = self.dec2(torch.cat([s2, self.up2(y)], 1))
        return self.dec1(torch.cat([s1, self.up1(y)], 1))


class MiniGoogLeNet(nn.Module):
    """A stem and two torchvision Inception blocks (branch concatenation)."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = BasicConv2d(3, 4, kernel_size=7, stride=2, padding=3)
        self.inc1 = Inception(4, 2, 2, 2, 2, 2, 2)
        self.pool = nn.AvgPool2d(3, 2, 1)
        self.inc2 = Inception(8, 2, 2, 2, 2, 2, 2)
        for inception in (self.inc1, self.inc2):
            inception.branch4[0] = nn.AvgPool2d(3, 1, 1, ceil_mode=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inc2(self.pool(self.inc1(self.stem(x))))


class Resampling(nn.Module):
    """Space-to-depth, a non-integer bilinear resize, uneven adaptive pooling, a shuffle."""

    def __init__(self) -> None:
        super().__init__()
        self.a = nn.Conv2d(4, 2, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(21)
        self.b = nn.Conv2d(2, 4, 3, 2, 1)
        self.out = nn.Conv2d(1, 1, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.a(F.pixel_unshuffle(x, 2))
        x = self.pool(F.interpolate(x, scale_factor=1.5, mode="bilinear"))
        return self.out(F.pixel_shuffle(self.b(x), 2))


EMPIRICAL = {
    # name: (model, layer, input channels, input size, probed units). Units after an
    # upsampling differ with their phase, so those cases probe several neighbours.
    "resnet18-geometry": (TinyResNet18, "layer4", 1, 480, 1),
    "offset-branches": (OffsetBranches, "out", 1, 40, 1),
    "unet-transposed": (lambda: MiniUNet("transposed"), "dec1", 1, 64, 8),
    "unet-nearest": (lambda: MiniUNet("nearest"), "dec1", 1, 64, 8),
    "unet-bilinear": (lambda: MiniUNet("bilinear"), "dec1", 1, 64, 8),
    "googlenet-concat": (MiniGoogLeNet, "inc2", 3, 64, 1),
    "resampling": (Resampling, "out", 1, 64, 12),
}


@pytest.mark.parametrize("case", sorted(EMPIRICAL))
def test_receptive_field_matches_gradient_support(case: str) -> None:
    builder, layer, in_chans, size, probes = EMPIRICAL[case]
    model = _positive(builder())
    fields = receptive_field(model, (in_chans, size, size))
    empirical = empirical_rf(model, model.get_submodule(layer), in_chans, size, probes)
    assert fields[layer][0] == empirical
    if case == "resnet18-geometry":
        assert fields[layer] == (435, 32)
    if case == "offset-branches":
        assert fields["a"][0] == fields["b"][0] == 3
        assert fields[layer][0] == 4 + 2  # the union of offset 3-windows, then a 3x3 conv


def test_global_pooling_sees_the_whole_input() -> None:
    class SqueezeExcite(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(1, 2, 3, padding=1)
            self.gate = nn.Conv2d(2, 2, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            y = self.conv(x)
            return y * torch.sigmoid(self.gate(y.mean((2, 3), keepdim=True)))

    model = nn.Sequential(nn.Conv2d(1, 1, 3), SqueezeExcite())
    fields = receptive_field(model, (1, 24, 24))
    assert fields["1.conv"] == (5, 1)
    # The gate averages all 22 units of the 5-wide windows: 5 + 21 = 26 >= 24 input pixels.
    assert fields["1"][0] == 26


def test_untracked_operator_is_reported() -> None:
    class Rolled(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.roll(x, 1, dims=-1)

    model = nn.Sequential(nn.Conv2d(1, 1, 3), Rolled())
    with pytest.warns(RuntimeWarning, match="roll"):
        fields = receptive_field(model, (1, 16, 16))
    assert fields["1"][0] >= 16
    assert summary(model, (1, 16, 16)).notes


# ----------------------------------------------------------------------------- MACs and params

PUBLISHED = {
    # name: (builder, weights, GMACs at 224 x 224 as torchvision publishes them in "_ops")
    "resnet50": (
        torchvision.models.resnet50,
        torchvision.models.ResNet50_Weights.IMAGENET1K_V2,
        4.089,
    ),
    "vgg16": (torchvision.models.vgg16, torchvision.models.VGG16_Weights.IMAGENET1K_V1, 15.47),
    "alexnet": (
        torchvision.models.alexnet,
        torchvision.models.AlexNet_Weights.IMAGENET1K_V1,
        0.714,
    ),
    "resnet18": (
        torchvision.models.resnet18,
        torchvision.models.ResNet18_Weights.IMAGENET1K_V1,
        1.814,
    ),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_macs_and_params_match_torchvision(name: str) -> None:
    builder, weights, gmacs = PUBLISHED[name]
    assert weights.meta["_ops"] == gmacs
    digits = len(repr(gmacs).split(".")[1])  # the published precision
    # alexnet and resnet18 run for real on the CPU; the big two only need shapes.
    model = builder(weights=None) if name in ("alexnet", "resnet18") else on_meta(builder)
    assert round(count_macs(model, (3, 224, 224)) / 1e9, digits) == gmacs
    assert count_params(model) == weights.meta["num_params"]


def test_summary_totals_agree_with_count_macs() -> None:
    model = on_meta(torchvision.models.resnet50)
    table = summary(model, (3, 224, 224))
    assert table.total_macs == count_macs(model, (3, 224, 224)) == 4_089_184_256
    assert table.total_params == count_params(model) == 25_557_032
    assert sum(row.params for row in table.rows) == table.total_params
    assert sum(row.macs for row in table.rows) == table.total_macs


def test_macs_cover_convs_linears_transposed_convs_and_matmuls() -> None:
    conv = nn.Conv2d(3, 8, 3)  # 8x8 outputs x 8 channels x 27 taps
    assert count_macs(conv, (3, 10, 10)) == 8 * 8 * 8 * 27
    grouped = nn.Conv2d(4, 8, 3, groups=2)  # 8 * 8 * 8 outputs x (2 * 9) taps
    assert count_macs(grouped, (4, 10, 10)) == 8 * 8 * 8 * 18
    transposed = nn.ConvTranspose2d(4, 8, 3, stride=2)  # every input pixel meets every weight
    assert count_macs(transposed, (4, 5, 5)) == 5 * 5 * 4 * 8 * 9
    assert count_macs(nn.Linear(10, 7), (10,)) == 70
    assert count_macs(nn.Linear(10, 7), (10,), batch_size=4) == 280

    class Gram(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            flat = x.flatten(2)  # (N, C, HW)
            return flat @ flat.transpose(1, 2)  # bmm: C x C outputs of HW products

    assert count_macs(Gram(), (6, 4, 5)) == 6 * 6 * 20

    class Attention(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            tokens = x.flatten(2).transpose(1, 2).unsqueeze(1)  # (N, 1, HW, C)
            return F.scaled_dot_product_attention(tokens, tokens, tokens)

    # q @ k^T and attention @ v: two HW x HW x C products.
    assert count_macs(Attention(), (8, 4, 4)) == 2 * 16 * 16 * 8

    # Element-wise operations, pooling, normalisation and resampling count nothing.
    free = nn.Sequential(
        nn.BatchNorm2d(3),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.AdaptiveAvgPool2d(2),
        nn.Upsample(scale_factor=2, mode="bilinear"),
        nn.LayerNorm(4),
        nn.Softmax(-1),
    )
    assert count_macs(free, (3, 8, 8)) == 0


# ----------------------------------------------------------------------------- the layer table


def test_summary_depth_and_repeated_modules(resnet18: nn.Module) -> None:
    leaves = summary(resnet18, (3, 64, 64))
    names = [row.name for row in leaves.rows]
    # torchvision's BasicBlock calls its ReLU twice: two rows, the parameters once.
    assert (
        names.index("layer1.0.relu")
        < names.index("layer1.0.conv2")
        < names.index("layer1.0.relu#2")
    )
    assert all(
        "." in name or name in ("conv1", "bn1", "relu", "maxpool", "avgpool", "fc")
        for name in names
    )
    assert all(row.leaf for row in leaves.rows)
    assert sum(row.params for row in leaves.rows) == leaves.total_params == 11_689_512

    top = summary(resnet18, (3, 64, 64), depth=1)
    assert [row.name for row in top.rows] == [
        "conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc",
    ]  # fmt: skip
    assert all(row.leaf for row in top.rows)
    assert sum(row.macs for row in top.rows) == top.total_macs == leaves.total_macs
    rows = {row.name: row for row in top.rows}
    assert (rows["layer4"].receptive_field, rows["layer4"].stride) == (435, 32)
    assert rows["layer4"].output_shape == (512, 2, 2)

    two = summary(resnet18, (3, 64, 64), depth=2)
    rows = {row.name: row for row in two.rows}
    assert not rows["layer1"].leaf and rows["layer1.0"].leaf
    assert rows["layer1"].macs == rows["layer1.0"].macs + rows["layer1.1"].macs
    assert rows["layer1"].depth == 1 and rows["layer1.0"].depth == 2

    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="depth"):
            summary(resnet18, (3, 64, 64), depth=bad)


def test_summary_to_dict_and_text() -> None:
    table = summary(LeNet5(), (1, 32, 32))
    data = json.loads(json.dumps(table.to_dict()))
    assert data["total_params"] == 61_706 and data["total_macs"] == 416_520
    assert data["input_size"] == [1, 32, 32]
    assert data["rows"][0] == {
        "name": "conv1",
        "type": "Conv2d",
        "depth": 1,
        "output_shape": [6, 28, 28],
        "params": 156,
        "macs": 117_600,
        "stride": 1,
        "receptive_field": 5,
        "leaf": True,
    }

    text = str(table)
    assert text == table.format()
    lines = text.splitlines()
    header = lines[0]
    assert header.split() == ["Layer", "Type", "Output", "shape", "Params", "MACs", "Stride", "RF"]
    body = lines[2 : 2 + len(table.rows)]
    # Left-aligned columns start where their header does; numbers end where it ends.
    for line, row in zip(body, table.rows, strict=True):
        assert line.index(row.type) == header.index("Type")
        shape = "(" + ", ".join(map(str, row.output_shape)) + ")"
        assert line.index(shape, header.index("Type")) == header.index("Output shape")
    conv2 = body[3]
    assert "2,416" in conv2 and "240.00K" in conv2
    assert conv2.index("2,416") + len("2,416") == header.index("Params") + len("Params")
    assert "Total params:         61,706" in text
    assert "Total MACs:           416,520 (416.52K)" in text

    big = str(summary(on_meta(torchvision.models.vgg16), (3, 224, 224)))
    assert "138,357,544" in big and "15,470,264,320 (15.47G)" in big
    assert "1.85G" in big  # features.2, the 64 -> 64 conv at 224 x 224


# ----------------------------------------------------------------------------- side effects


def _hooks(model: nn.Module) -> list[object]:
    found: list[object] = []
    for module in model.modules():
        for attr in ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks"):
            found += list(getattr(module, attr).values())
    found += list(torch.nn.modules.module._global_forward_hooks.values())
    found += list(torch.nn.modules.module._global_forward_pre_hooks.values())
    return found


@pytest.mark.parametrize("run", ["count_macs", "summary", "receptive_field"])
def test_no_side_effects(run: str) -> None:
    model = torchvision.models.resnet18(weights=None)
    model.train()
    model.layer2.eval()  # a frozen stage must stay frozen, the rest training
    flags = {name: module.training for name, module in model.named_modules()}
    state = {key: value.clone() for key, value in model.state_dict().items()}

    getattr(analysis, run)(model, (3, 64, 64))

    assert {name: module.training for name, module in model.named_modules()} == flags
    assert _hooks(model) == []
    assert all(param.grad is None for param in model.parameters())
    # Eval mode during the pass: batch-norm running statistics did not move.
    after = model.state_dict()
    assert all(torch.equal(state[key], after[key]) for key in state)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("run", ["count_macs", "summary", "receptive_field"])
def test_wrong_channel_count_is_a_clear_value_error(run: str, resnet18: nn.Module) -> None:
    training = resnet18.training
    with pytest.raises(ValueError) as info:
        getattr(analysis, run)(resnet18, (2, 64, 64))
    message = str(info.value)
    assert "expected input shape is (3, 64, 64)" in message
    assert "given shape is (2, 64, 64)" in message
    assert "conv1" in message
    assert _hooks(resnet18) == []
    assert resnet18.training == training


def test_wrong_spatial_size_names_the_layer() -> None:
    with pytest.raises(ValueError, match=r"'fc1' \(Linear\) expects 400 input features") as info:
        summary(LeNet5(), (1, 28, 28))
    assert "(256,)" in str(info.value)  # 16 x 4 x 4 after the convolutions


@pytest.mark.parametrize(
    ("size", "batch"),
    [((3, 0, 8), 1), ("3x224x224", 1), ((3, 8.0, 8), 1), ((), 1), ((3, 8, 8), 0)],
)
def test_malformed_input_size(size: object, batch: int) -> None:
    with pytest.raises(ValueError):
        count_macs(nn.Conv2d(3, 1, 1), size, batch_size=batch)  # type: ignore[arg-type]


def test_tensor_input_is_used_as_given() -> None:
    x = torch.zeros(2, 3, 10, 10)
    conv = nn.Conv2d(3, 8, 3)
    assert count_macs(conv, x) == 2 * count_macs(conv, (3, 10, 10))
    assert summary(conv, x).input_size == (3, 10, 10)
    with pytest.raises(ValueError, match="batch_size"):
        count_macs(conv, x, batch_size=2)


def test_count_params_trainable_only() -> None:
    model = LeNet5()
    model.conv1.requires_grad_(False)
    assert count_params(model) == 61_706
    assert count_params(model, trainable_only=True) == 61_706 - 156
    tied = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False))
    tied[1].weight = tied[0].weight
    assert count_params(tied) == 16


# ----------------------------------------------------------------------------- the module itself


def test_module_imports_only_torch_and_the_standard_library() -> None:
    tree = ast.parse(Path(analysis.__file__).read_text())
    roots = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert roots - {"torch", "__future__"} <= set(sys.stdlib_module_names)
    assert "torch" in roots


def test_docstring_examples() -> None:
    result = doctest.testmod(analysis, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 10
    assert result.failed == 0
