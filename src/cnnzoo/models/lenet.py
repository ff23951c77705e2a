"""LeNet-5 (LeCun et al., 1998), in its common modern reading.

C1 conv 5×5 → tanh → S2 avg-pool 2 → C3 conv 5×5 → tanh → S4 avg-pool 2 →
C5/F6 fully connected (400→120→84, tanh) → output (84→num_classes).

Differences from the paper, as in most re-implementations: C3 is fully connected
to S2 (the paper's sparse connection table is dropped), sub-sampling has no
trainable coefficients and the output is a linear layer instead of RBF units.
At the defaults (1×32×32 input, 10 classes) it has 61,706 parameters.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

from cnnzoo.models.base import ZooModel

__all__ = ["LeNet5", "build_lenet5"]

_FEATURE_SHAPE = (16, 5, 5)


class LeNet5(ZooModel):
    """LeNet-5 for 32×32 inputs.

    Modules: ``stem`` (C1 + S2), ``stage1`` (C3 + S4), ``pre_logits`` (C5 and F6 as
    linear layers with tanh) and ``fc`` (the classifier).
    """

    def __init__(self, num_classes: int = 10, in_chans: int = 1) -> None:
        super().__init__()
        self.num_classes = int(num_classes)
        self.in_chans = int(in_chans)
        self.stem = nn.Sequential(OrderedDict(
            conv=nn.Conv2d(in_chans, 6, kernel_size=5),
            act=nn.Tanh(),
            pool=nn.AvgPool2d(kernel_size=2, stride=2),
        ))
        self.stage1 = nn.Sequential(OrderedDict(
            conv=nn.Conv2d(6, 16, kernel_size=5),
            act=nn.Tanh(),
            pool=nn.AvgPool2d(kernel_size=2, stride=2),
        ))
        self.pre_logits = nn.Sequential(OrderedDict(
            fc1=nn.Linear(16 * 5 * 5, 120),
            act1=nn.Tanh(),
            fc2=nn.Linear(120, 84),
            act2=nn.Tanh(),
        ))
        self.num_features = 84
        self.fc: nn.Module = nn.Identity()
        self._make_classifier(self.num_classes)
        self.feature_info = [
            {"module": "stem", "num_chs": 6, "reduction": 2},
            {"module": "stage1", "num_chs": 16, "reduction": 4},
        ]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage1(self.stem(x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        if tuple(x.shape[1:]) != _FEATURE_SHAPE:
            raise ValueError(
                f"LeNet-5 takes {self.in_chans}×32×32 images (features {_FEATURE_SHAPE}); "
                f"got features of shape {tuple(x.shape[1:])}: resize or pad the input to 32×32"
            )
        x = self.pre_logits(torch.flatten(x, 1))
        return x if pre_logits else self.fc(x)

    def get_classifier(self) -> nn.Module:
        return self.fc

    def _make_classifier(self, num_classes: int) -> None:
        self.fc = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()


def build_lenet5(*, num_classes: int = 10, in_chans: int = 1) -> LeNet5:
    """Build LeNet-5 (1×32×32 digits by default; ``in_chans`` sets the input channels)."""
    model = LeNet5(num_classes=num_classes, in_chans=in_chans)
    model.pretrained_cfg = {
        "mean": (0.5,) * in_chans,
        "std": (0.5,) * in_chans,
        "input_size": (in_chans, 32, 32),
        "crop_pct": 1.0,
        "interpolation": "bilinear",
        "num_classes": num_classes,
        "labels": None,
    }
    return model
