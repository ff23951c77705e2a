"""SqueezeNet 1.0/1.1 and ShuffleNetV2 in torchvision's exact parameter layout.

timm implements neither family, so they are native :class:`ZooModel` networks built
from torchvision's own blocks (:class:`torchvision.models.squeezenet.Fire`,
:class:`torchvision.models.shufflenetv2.InvertedResidual`) under torchvision's module
names. A torchvision state dict therefore loads strictly, with no converter (the
default ``"cnnzoo"`` layout), and the eval outputs equal torchvision's.

(MNASNet is timm-backed instead: timm's MNASNet-B1 is torchvision's network exactly;
see :func:`cnnzoo.models.timm_modern.build_mnasnet`.)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

import torch
from torch import nn
from torchvision.models.shufflenetv2 import InvertedResidual
from torchvision.models.squeezenet import Fire

from cnnzoo._utils import per_channel
from cnnzoo.models.base import ZooModel
from cnnzoo.spec import IMAGENET_MEAN, IMAGENET_STD

__all__ = [
    "SHUFFLENET_V2_CHANNELS",
    "ShuffleNetV2",
    "SqueezeNet",
    "build_shufflenet_v2",
    "build_squeezenet",
]

# torchvision's ``stages_out_channels`` by width multiplier (stem, stage2-4, conv5).
SHUFFLENET_V2_CHANNELS: dict[float, tuple[int, int, int, int, int]] = {
    0.5: (24, 48, 96, 192, 1024),
    1.0: (24, 116, 232, 464, 1024),
    1.5: (24, 176, 352, 704, 1024),
    2.0: (24, 244, 488, 976, 2048),
}
SHUFFLENET_V2_REPEATS = (4, 8, 4)


def _imagenet_cfg(in_chans: int, num_classes: int) -> dict[str, Any]:
    """The preprocessing of torchvision's ImageNet recipes, for ``in_chans`` channels."""
    return {
        "mean": per_channel(IMAGENET_MEAN, in_chans),
        "std": per_channel(IMAGENET_STD, in_chans),
        "input_size": (in_chans, 224, 224),
        "crop_pct": 0.875,
        "interpolation": "bilinear",
        "num_classes": num_classes,
        "labels": None,
    }


def _squeezenet_features(version: str, in_chans: int) -> nn.Sequential:
    """torchvision's ``SqueezeNet.features`` for ``version`` ``"1_0"`` or ``"1_1"``."""

    def pool() -> nn.MaxPool2d:
        return nn.MaxPool2d(kernel_size=3, stride=2, ceil_mode=True)

    if version == "1_0":
        return nn.Sequential(
            nn.Conv2d(in_chans, 96, kernel_size=7, stride=2),
            nn.ReLU(inplace=True),
            pool(),
            Fire(96, 16, 64, 64),
            Fire(128, 16, 64, 64),
            Fire(128, 32, 128, 128),
            pool(),
            Fire(256, 32, 128, 128),
            Fire(256, 48, 192, 192),
            Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256),
            pool(),
            Fire(512, 64, 256, 256),
        )
    if version == "1_1":
        return nn.Sequential(
            nn.Conv2d(in_chans, 64, kernel_size=3, stride=2),
            nn.ReLU(inplace=True),
            pool(),
            Fire(64, 16, 64, 64),
            Fire(128, 16, 64, 64),
            pool(),
            Fire(128, 32, 128, 128),
            Fire(256, 32, 128, 128),
            pool(),
            Fire(256, 48, 192, 192),
            Fire(384, 48, 192, 192),
            Fire(384, 64, 256, 256),
            Fire(512, 64, 256, 256),
        )
    raise ValueError(f"unknown SqueezeNet version {version!r}; expected '1_0' or '1_1'")


class SqueezeNet(ZooModel):
    """SqueezeNet with torchvision's module names (``features.N``, ``classifier.1``).

    The classifier is a 1×1 convolution applied *before* the global pooling, as in the
    paper: ``classifier`` is dropout → conv 512→num_classes (index 1) → ReLU → global
    average pool. ``forward_head(x, pre_logits=True)`` returns the pooled 512-channel
    features that the classifier convolution would see (pooled instead of per pixel).
    """

    # Each stage's output is taken before the next max-pool; the last is the final Fire.
    FEATURE_INFO: ClassVar[dict[str, list[tuple[str, int, int]]]] = {
        "1_0": [("features.1", 96, 2), ("features.5", 256, 4), ("features.10", 512, 8),
                ("features.12", 512, 16)],
        "1_1": [("features.1", 64, 2), ("features.4", 128, 4), ("features.7", 256, 8),
                ("features.12", 512, 16)],
    }

    def __init__(self, version: str = "1_0", num_classes: int = 1000, in_chans: int = 3,
                 dropout: float = 0.5) -> None:
        super().__init__()
        self.version = version
        self.num_classes = int(num_classes)
        self.in_chans = int(in_chans)
        self.num_features = 512
        self.features = _squeezenet_features(version, in_chans)
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Identity(),  # index 1: the final 1x1 convolution, set by _make_classifier
            nn.ReLU(inplace=True),
            nn.AdaptiveAvgPool2d((1, 1)),
        )
        for m in self.features.modules():  # torchvision's initialisation
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_uniform_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 0)
        self._make_classifier(self.num_classes)
        self.feature_info = [
            {"module": m, "num_chs": c, "reduction": r} for m, c, r in self.FEATURE_INFO[version]
        ]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        if pre_logits or self.num_classes == 0:
            return torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return torch.flatten(self.classifier(x), 1)

    def get_classifier(self) -> nn.Module:
        return self.classifier[1]

    def _make_classifier(self, num_classes: int) -> None:
        if num_classes <= 0:
            self.classifier[1] = nn.Identity()
            return
        conv = nn.Conv2d(self.num_features, num_classes, kernel_size=1)
        nn.init.normal_(conv.weight, mean=0.0, std=0.01)  # torchvision's init of final_conv
        if conv.bias is not None:
            nn.init.constant_(conv.bias, 0)
        self.classifier[1] = conv


class ShuffleNetV2(ZooModel):
    """ShuffleNetV2 with torchvision's module names.

    ``conv1`` (3×3/2 conv-BN-ReLU) → ``maxpool`` → ``stage2``/``stage3``/``stage4``
    (torchvision's ``InvertedResidual`` blocks with channel split and shuffle) →
    ``conv5`` (1×1 conv-BN-ReLU) are the backbone; the head is a global mean and ``fc``.
    """

    def __init__(self, stages_out_channels: Sequence[int],
                 stages_repeats: Sequence[int] = SHUFFLENET_V2_REPEATS,
                 num_classes: int = 1000, in_chans: int = 3) -> None:
        super().__init__()
        if len(stages_repeats) != 3 or len(stages_out_channels) != 5:
            raise ValueError("ShuffleNetV2 takes 3 stage repeats and 5 stage widths")
        chs = tuple(int(c) for c in stages_out_channels)
        self.num_classes = int(num_classes)
        self.in_chans = int(in_chans)
        self.num_features = chs[4]
        self.conv1 = nn.Sequential(
            nn.Conv2d(in_chans, chs[0], 3, 2, 1, bias=False),
            nn.BatchNorm2d(chs[0]),
            nn.ReLU(inplace=True),
        )
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.stage2 = self._stage(chs[0], chs[1], stages_repeats[0])
        self.stage3 = self._stage(chs[1], chs[2], stages_repeats[1])
        self.stage4 = self._stage(chs[2], chs[3], stages_repeats[2])
        self.conv5 = nn.Sequential(
            nn.Conv2d(chs[3], chs[4], 1, 1, 0, bias=False),
            nn.BatchNorm2d(chs[4]),
            nn.ReLU(inplace=True),
        )
        self.fc: nn.Module = nn.Identity()
        self._make_classifier(self.num_classes)
        self.feature_info = [
            {"module": "conv1", "num_chs": chs[0], "reduction": 2},
            {"module": "maxpool", "num_chs": chs[0], "reduction": 4},
            {"module": "stage2", "num_chs": chs[1], "reduction": 8},
            {"module": "stage3", "num_chs": chs[2], "reduction": 16},
            {"module": "stage4", "num_chs": chs[3], "reduction": 32},
        ]

    @staticmethod
    def _stage(in_chs: int, out_chs: int, repeats: int) -> nn.Sequential:
        blocks = [InvertedResidual(in_chs, out_chs, 2)]
        blocks += [InvertedResidual(out_chs, out_chs, 1) for _ in range(repeats - 1)]
        return nn.Sequential(*blocks)

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(x)))
        return self.conv5(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = x.mean([2, 3])
        return x if pre_logits else self.fc(x)

    def get_classifier(self) -> nn.Module:
        return self.fc

    def _make_classifier(self, num_classes: int) -> None:
        self.fc = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()


def build_squeezenet(*, version: str, num_classes: int = 1000, in_chans: int = 3,
                     dropout: float = 0.5) -> SqueezeNet:
    """Build SqueezeNet 1.0 or 1.1 in torchvision's layout.

    Args:
        version: ``"1_0"`` (the paper's) or ``"1_1"`` (2.4x cheaper, same accuracy).
        num_classes: classes of the final 1×1 convolution (``0``: none).
        in_chans: input channels.
        dropout: dropout before the final convolution.
    """
    model = SqueezeNet(version, num_classes=num_classes, in_chans=in_chans, dropout=dropout)
    model.pretrained_cfg = _imagenet_cfg(in_chans, num_classes)
    return model


def build_shufflenet_v2(*, width_mult: float, num_classes: int = 1000,
                        in_chans: int = 3) -> ShuffleNetV2:
    """Build ShuffleNetV2 ×0.5, ×1.0, ×1.5 or ×2.0 in torchvision's layout.

    Args:
        width_mult: 0.5, 1.0, 1.5 or 2.0 (torchvision's stage widths for each).
        num_classes: classes of ``fc`` (``0``: none).
        in_chans: input channels.
    """
    if width_mult not in SHUFFLENET_V2_CHANNELS:
        raise ValueError(f"ShuffleNetV2 width_mult {width_mult!r} is not one of "
                         f"{', '.join(map(str, SHUFFLENET_V2_CHANNELS))}")
    model = ShuffleNetV2(SHUFFLENET_V2_CHANNELS[width_mult], num_classes=num_classes,
                         in_chans=in_chans)
    model.pretrained_cfg = _imagenet_cfg(in_chans, num_classes)
    return model
