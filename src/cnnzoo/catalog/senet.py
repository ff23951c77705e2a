"""Squeeze-and-Excitation networks (timm's implementation and module layout)."""

from __future__ import annotations

from cnnzoo.catalog.resnet import BOTTLENECK, resnet_spec
from cnnzoo.spec import Paper

PAPER = Paper("Squeeze-and-Excitation Networks", 2017, "https://arxiv.org/abs/1709.01507")

SPECS = (
    resnet_spec("seresnet50", family="senet", paper=PAPER, num_params=28_088_024,
                gmacs=4.092, widths=BOTTLENECK, aliases=("se_resnet50",), converters={},
                description="SE-ResNet-50: ResNet-50 with squeeze-and-excitation blocks"),
    resnet_spec("senet154", family="senet", paper=PAPER, num_params=115_088_984,
                gmacs=20.688, widths=BOTTLENECK, stem_chs=128, converters={},
                description="SENet-154: SE-ResNeXt-152 64x4d with a deep stem"),
)
