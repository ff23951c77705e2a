"""Tests of cnnzoo.analysis.count_macs / count_params against published and hand-computed counts."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchvision
from torch import nn

from cnnzoo.analysis import count_macs, count_params
from tests.analysis.helpers import LeNet5, on_meta

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


def test_count_params_trainable_only() -> None:
    model = LeNet5()
    model.conv1.requires_grad_(False)
    assert count_params(model) == 61_706
    assert count_params(model, trainable_only=True) == 61_706 - 156
    tied = nn.Sequential(nn.Linear(4, 4, bias=False), nn.Linear(4, 4, bias=False))
    tied[1].weight = tied[0].weight
    assert count_params(tied) == 16
