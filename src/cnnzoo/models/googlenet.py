"""GoogLeNet / Inception v1 (Szegedy et al., 2014) in torchvision's exact layout.

Same module names, the same BN-after-conv ``BasicConv2d`` (eps 0.001), the same
3×3 convolution in the "5×5" branch that torchvision's (and its checkpoints') layout
has (pytorch/vision#906), the same optional auxiliary classifiers ``aux1``/``aux2``
and ``transform_input``. A torchvision state dict loads strictly and the eval
outputs match torchvision's. With ``aux_logits=False`` (the default) it has
6,624,904 parameters at 1000 classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo.models.base import ZooModel, imagenet_cfg

__all__ = [
    "BasicConv2d",
    "GoogLeNet",
    "GoogLeNetOutputs",
    "Inception",
    "InceptionAux",
    "build_googlenet",
    "convert_torchvision",
]



class GoogLeNetOutputs(NamedTuple):
    """What :class:`GoogLeNet` returns in training mode with ``aux_logits=True``."""

    logits: torch.Tensor
    aux_logits2: torch.Tensor | None
    aux_logits1: torch.Tensor | None


class BasicConv2d(nn.Module):
    """Conv (no bias) → BatchNorm (eps 0.001) → ReLU."""

    def __init__(self, in_channels: int, out_channels: int, **kwargs: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)), inplace=True)


class Inception(nn.Module):
    """The four-branch Inception module (1×1 | 1×1→3×3 | 1×1→3×3 | pool→1×1)."""

    def __init__(
        self,
        in_channels: int,
        ch1x1: int,
        ch3x3red: int,
        ch3x3: int,
        ch5x5red: int,
        ch5x5: int,
        pool_proj: int,
    ) -> None:
        super().__init__()
        self.out_channels = ch1x1 + ch3x3 + ch5x5 + pool_proj
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(
            BasicConv2d(in_channels, ch3x3red, kernel_size=1),
            BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1),
        )
        self.branch3 = nn.Sequential(
            BasicConv2d(in_channels, ch5x5red, kernel_size=1),
            # 3×3, not the paper's 5×5: torchvision's layout (pytorch/vision#906).
            BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1),
        )
        self.branch4 = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=True),
            BasicConv2d(in_channels, pool_proj, kernel_size=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class InceptionAux(nn.Module):
    """An auxiliary classifier: 4×4 adaptive avg-pool → 1×1 conv 128 → fc 1024 → fc."""

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7) -> None:
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2: nn.Module = (
            nn.Linear(1024, num_classes) if num_classes > 0 else nn.Identity()
        )
        self.dropout = nn.Dropout(p=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4)))
        x = F.relu(self.fc1(torch.flatten(x, 1)), inplace=True)
        return self.fc2(self.dropout(x))


class GoogLeNet(ZooModel):
    """GoogLeNet with torchvision's module names.

    In training mode with ``aux_logits=True`` the forward returns
    :class:`GoogLeNetOutputs` ``(logits, aux_logits2, aux_logits1)`` like
    torchvision; otherwise the logits tensor.
    """

    def __init__(
        self,
        num_classes: int = 1000,
        in_chans: int = 3,
        aux_logits: bool = False,
        transform_input: bool = False,
        dropout: float = 0.2,
        dropout_aux: float = 0.7,
        init_weights: bool = True,
    ) -> None:
        super().__init__()
        if transform_input and in_chans != 3:
            raise ValueError(
                "transform_input=True re-normalises 3 ImageNet-normalised RGB channels; "
                f"it needs in_chans=3, got in_chans={in_chans}"
            )
        self.num_classes = int(num_classes)
        self.in_chans = int(in_chans)
        self.aux_logits = bool(aux_logits)
        self.transform_input = bool(transform_input)

        self.conv1 = BasicConv2d(in_chans, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception3a = Inception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)

        self.inception4a = Inception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = Inception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)

        self.inception5a = Inception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = Inception(832, 384, 192, 384, 48, 128, 128)

        self.aux1: InceptionAux | None
        self.aux2: InceptionAux | None
        if aux_logits:
            self.aux1 = InceptionAux(512, num_classes, dropout=dropout_aux)
            self.aux2 = InceptionAux(528, num_classes, dropout=dropout_aux)
        else:
            self.aux1 = None
            self.aux2 = None

        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(p=dropout)
        self.num_features = 1024
        self.fc: nn.Module = nn.Identity()
        self._make_classifier(self.num_classes)

        self.feature_info = [
            {"module": "conv1", "num_chs": 64, "reduction": 2},
            {"module": "conv3", "num_chs": 192, "reduction": 4},
            {"module": "inception3b", "num_chs": 480, "reduction": 8},
            {"module": "inception4e", "num_chs": 832, "reduction": 16},
            {"module": "inception5b", "num_chs": 1024, "reduction": 32},
        ]
        if init_weights:
            self._init_weights()

    def _init_weights(self) -> None:
        # torchvision's init_weights=True scheme.
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def _transform_input(self, x: torch.Tensor) -> torch.Tensor:
        if not self.transform_input:
            return x
        # ImageNet-normalised input → the (x - 0.5) / 0.5 input the ported weights expect.
        x_ch0 = torch.unsqueeze(x[:, 0], 1) * (0.229 / 0.5) + (0.485 - 0.5) / 0.5
        x_ch1 = torch.unsqueeze(x[:, 1], 1) * (0.224 / 0.5) + (0.456 - 0.5) / 0.5
        x_ch2 = torch.unsqueeze(x[:, 2], 1) * (0.225 / 0.5) + (0.406 - 0.5) / 0.5
        return torch.cat((x_ch0, x_ch1, x_ch2), 1)

    def _features(
        self, x: torch.Tensor, with_aux: bool
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        x = self._transform_input(x)
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if with_aux and self.aux1 is not None else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if with_aux and self.aux2 is not None else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        return x, aux2, aux1

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        return self._features(x, with_aux=False)[0]

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        x = self.dropout(torch.flatten(self.avgpool(x), 1))
        return x if pre_logits else self.fc(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor | GoogLeNetOutputs:  # type: ignore[override]
        with_aux = self.training and self.aux_logits and self.aux1 is not None
        x, aux2, aux1 = self._features(x, with_aux=with_aux)
        logits = self.forward_head(x)
        if with_aux:
            return GoogLeNetOutputs(logits, aux2, aux1)
        return logits

    def get_classifier(self) -> nn.Module:
        return self.fc

    def _make_classifier(self, num_classes: int) -> None:
        self.fc = nn.Linear(self.num_features, num_classes) if num_classes > 0 else nn.Identity()
        # The auxiliary heads predict the same classes as the main one.
        for aux in (self.aux1, self.aux2):
            if aux is not None:
                aux.fc2 = nn.Linear(1024, num_classes) if num_classes > 0 else nn.Identity()


def build_googlenet(
    *,
    num_classes: int = 1000,
    in_chans: int = 3,
    aux_logits: bool = False,
    transform_input: bool = False,
    dropout: float = 0.2,
    dropout_aux: float = 0.7,
    init_weights: bool = True,
) -> GoogLeNet:
    """Build GoogLeNet in torchvision's layout.

    Args:
        aux_logits: add the auxiliary classifiers ``aux1``/``aux2`` (used in training).
        transform_input: re-normalise ImageNet-normalised input to the ``(x-0.5)/0.5``
            range the weights ported from the paper's Caffe model expect (torchvision
            turns it on with its pretrained weights).
        init_weights: torchvision's truncated-normal initialisation (std 0.01).
    """
    model = GoogLeNet(
        num_classes=num_classes,
        in_chans=in_chans,
        aux_logits=aux_logits,
        transform_input=transform_input,
        dropout=dropout,
        dropout_aux=dropout_aux,
        init_weights=init_weights,
    )
    model.pretrained_cfg = imagenet_cfg(in_chans, num_classes=num_classes)
    return model


def convert_torchvision(
    state_dict: Mapping[str, Any], model: nn.Module | None = None
) -> dict[str, Any]:
    """A torchvision GoogLeNet state dict in this model's layout.

    The keys are the same. torchvision's released checkpoint also carries the
    (untrained) auxiliary heads; they are dropped unless ``model`` is given and has
    ``aux_logits=True``.
    """
    keep_aux = model is not None and getattr(model, "aux1", None) is not None
    return {
        k: v for k, v in state_dict.items()
        if keep_aux or not k.startswith(("aux1.", "aux2."))
    }
