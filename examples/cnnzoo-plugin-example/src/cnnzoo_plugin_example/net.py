"""The TinyNet network and its builder (imported only when the model is built)."""

from __future__ import annotations

import torch
from torch import nn

from cnnzoo.models.base import ZooModel


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class TinyNet(ZooModel):
    """Three stride-2 conv stages (16, 32, 64 channels), global pooling, a linear head."""

    def __init__(self, num_classes: int = 10, in_chans: int = 3, drop_rate: float = 0.0) -> None:
        super().__init__()
        self.num_classes, self.in_chans, self.num_features = num_classes, in_chans, 64
        self.stem = _block(in_chans, 16)
        self.stage1 = _block(16, 32)
        self.stage2 = _block(32, 64)
        self.drop = nn.Dropout(drop_rate)
        self.fc: nn.Module = nn.Identity()
        self._make_classifier(num_classes)
        self.feature_info = [
            {"module": "stem", "num_chs": 16, "reduction": 2},
            {"module": "stage1", "num_chs": 32, "reduction": 4},
            {"module": "stage2", "num_chs": 64, "reduction": 8},
        ]
        self.pretrained_cfg = {"input_size": (in_chans, 64, 64), "crop_pct": 1.0}

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage2(self.stage1(self.stem(x)))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.drop(x.mean(dim=(2, 3)))
        return x if pre_logits else self.fc(x)

    def get_classifier(self) -> nn.Module:
        return self.fc

    def _make_classifier(self, num_classes: int) -> None:
        self.fc = nn.Linear(self.num_features, num_classes) if num_classes else nn.Identity()


def build_tinynet(*, num_classes: int = 10, in_chans: int = 3, drop_rate: float = 0.0) -> TinyNet:
    """Build TinyNet.

    Args:
        drop_rate: dropout before the classifier.
    """
    return TinyNet(num_classes=num_classes, in_chans=in_chans, drop_rate=drop_rate)
