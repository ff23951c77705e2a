"""AlexNet (Krizhevsky et al., 2012) in torchvision's exact parameter layout.

The module names (``features.N``, ``avgpool``, ``classifier.1/4/6``) are those of
``torchvision.models.AlexNet``, so torchvision checkpoints load unchanged
(61,100,840 parameters at 1000 classes). This is torchvision's single-tower
variant ("One weird trick", 64-192-384-256-256 channels), not the two-GPU original.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from cnnzoo.models.base import ZooModel, imagenet_cfg

__all__ = ["AlexNet", "build_alexnet", "convert_torchvision"]



class AlexNet(ZooModel):
    """AlexNet with torchvision's module names.

    ``features`` holds the five convolutions (indices 0, 3, 6, 8, 10) with their
    ReLUs and max-pools, ``avgpool`` an adaptive 6×6 average pool (so any input of
    at least 63×63 works) and ``classifier`` dropout → fc 9216→4096 → ReLU →
    dropout → fc 4096→4096 → ReLU → fc 4096→num_classes (index 6).
    """

    def __init__(self, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> None:
        super().__init__()
        self.num_classes = int(num_classes)
        self.in_chans = int(in_chans)
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 64, kernel_size=11, stride=4, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(64, 192, kernel_size=5, padding=2),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(192, 384, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(384, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(256, 256, kernel_size=3, padding=1),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.num_features = 4096
        self.classifier = nn.Sequential(
            nn.Dropout(p=dropout),
            nn.Linear(256 * 6 * 6, 4096),
            nn.ReLU(inplace=True),
            nn.Dropout(p=dropout),
            nn.Linear(4096, 4096),
            nn.ReLU(inplace=True),
            nn.Identity(),  # index 6: the classifier, set by _make_classifier
        )
        self._make_classifier(self.num_classes)
        # Each stage's output is taken before the next max-pool (as timm does for VGG).
        self.feature_info = [
            {"module": "features.1", "num_chs": 64, "reduction": 4},
            {"module": "features.4", "num_chs": 192, "reduction": 8},
            {"module": "features.11", "num_chs": 256, "reduction": 16},
        ]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = torch.flatten(self.avgpool(x), 1)
        x = self.classifier[:6](x)
        return x if pre_logits else self.classifier[6](x)

    def get_classifier(self) -> nn.Module:
        return self.classifier[6]

    def _make_classifier(self, num_classes: int) -> None:
        self.classifier[6] = (
            nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()
        )


def build_alexnet(*, num_classes: int = 1000, in_chans: int = 3, dropout: float = 0.5) -> AlexNet:
    """Build AlexNet in torchvision's layout (``dropout`` before both hidden fc layers)."""
    model = AlexNet(num_classes=num_classes, in_chans=in_chans, dropout=dropout)
    model.pretrained_cfg = imagenet_cfg(in_chans, num_classes=num_classes)
    return model


def convert_torchvision(
    state_dict: Mapping[str, Any], model: nn.Module | None = None
) -> dict[str, Any]:
    """A torchvision AlexNet state dict in this model's layout: the same keys, unchanged."""
    del model  # the layouts are identical
    return dict(state_dict)
