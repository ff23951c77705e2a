"""Tests of cnnzoo.analysis.receptive_field against hand-computed and empirical references."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.googlenet import BasicConv2d, Inception
from torchvision.models.resnet import BasicBlock

from cnnzoo.analysis import receptive_field, summary
from tests.analysis.helpers import LeNet5


def test_lenet5_receptive_field_matches_summary() -> None:
    fields = receptive_field(LeNet5(), (1, 32, 32))
    assert list(fields)[:4] == ["conv1", "act1", "pool1", "conv2"]
    assert [fields[name] for name in ("conv1", "pool1", "conv2", "pool2")] == [
        (5, 1),
        (6, 2),
        (14, 2),
        (16, 4),
    ]


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
