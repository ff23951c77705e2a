"""torchvision's semantic segmenters — DeepLabV3, FCN, LR-ASPP — as native zoo models.

Each model is built by torchvision's own builder (random weights) and its modules are
kept under torchvision's names — ``backbone`` (an ``IntermediateLayerGetter``),
``classifier`` and, with ``aux_loss=True``, ``aux_classifier`` — so a torchvision
state dict loads with the keys unchanged and the outputs equal torchvision's.

What differs from torchvision is the interface: ``forward`` returns the ``out``
logits at input resolution as a tensor (not a dict), and the model speaks the zoo's
protocol (``forward_features`` / ``forward_head`` / ``get_classifier`` /
``reset_classifier``, ``feature_info``, ``pretrained_cfg``).

The auxiliary head (the training contract):

* ``aux_loss=False`` (the default; inference and export): there is no
  ``aux_classifier``. A torchvision checkpoint that carries ``aux_classifier.*`` keys
  (the released COCO weights do) still loads: :func:`convert_torchvision`, the
  ``"torchvision"`` checkpoint converter, drops them.
* ``aux_loss=True`` (training): in **train mode** ``forward`` returns
  :class:`SegmentationOutputs` ``(out, aux)``, both ``[B, classes, H, W]`` at input
  resolution — the tuple :func:`cnnzoo.fit` already understands (the first item is
  the logits, the rest auxiliary logits added to the loss with the task's
  ``aux_weight``). In **eval mode** it returns ``out`` alone, a tensor, so
  evaluation, ``explain`` and export never see the auxiliary head.
  :meth:`TorchvisionSegmenter.forward_aux` gives the auxiliary logits in any mode.

The protocol split: ``forward_features`` is what the final 1×1 classifier consumes
(DeepLabV3: the ASPP head's 256 channels; FCN: 512; LR-ASPP: the low-level features
and the attention-weighted high-level ones, concatenated), at the backbone's output
stride; ``forward_head`` applies that classifier and up-samples (bilinear, as
torchvision) by the stride. ``forward`` up-samples to the exact input size, so any
height and width work; for sizes that are a multiple of the stride the two agree.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models import segmentation as tv_segmentation

from cnnzoo._utils import per_channel
from cnnzoo.errors import ModelOptionError
from cnnzoo.models.base import ZooModel
from cnnzoo.spec import IMAGENET_MEAN, IMAGENET_STD

__all__ = [
    "ARCHITECTURES",
    "SegmentationOutputs",
    "TorchvisionSegmenter",
    "build_torchvision_segmenter",
    "convert_torchvision",
]

AUX_PREFIX = "aux_classifier."


class SegmentationOutputs(NamedTuple):
    """What a segmenter built with ``aux_loss=True`` returns in train mode."""

    out: torch.Tensor
    aux: torch.Tensor


class _Arch(NamedTuple):
    """How one torchvision segmenter is built and where its parts are."""

    builder: Callable[..., nn.Module]
    head: str  # "deeplabv3", "fcn" or "lraspp"
    backbone: str  # "resnet" or "mobilenet_v3"
    taps: tuple[tuple[str, int, int], ...]  # (module inside backbone, channels, reduction)


_RESNET_TAPS = (("relu", 64, 2), ("layer1", 256, 4), ("layer2", 512, 8),
                ("layer3", 1024, 8), ("layer4", 2048, 8))
_MOBILENET_TAPS = (("1", 16, 2), ("3", 24, 4), ("6", 40, 8), ("12", 112, 16), ("16", 960, 16))

#: The architectures by cnnzoo name (torchvision's names as well).
ARCHITECTURES: dict[str, _Arch] = {
    "deeplabv3_resnet50": _Arch(tv_segmentation.deeplabv3_resnet50, "deeplabv3", "resnet",
                                _RESNET_TAPS),
    "deeplabv3_resnet101": _Arch(tv_segmentation.deeplabv3_resnet101, "deeplabv3", "resnet",
                                 _RESNET_TAPS),
    "deeplabv3_mobilenet_v3_large": _Arch(tv_segmentation.deeplabv3_mobilenet_v3_large,
                                          "deeplabv3", "mobilenet_v3", _MOBILENET_TAPS),
    "fcn_resnet50": _Arch(tv_segmentation.fcn_resnet50, "fcn", "resnet", _RESNET_TAPS),
    "fcn_resnet101": _Arch(tv_segmentation.fcn_resnet101, "fcn", "resnet", _RESNET_TAPS),
    "lraspp_mobilenet_v3_large": _Arch(tv_segmentation.lraspp_mobilenet_v3_large, "lraspp",
                                       "mobilenet_v3", _MOBILENET_TAPS),
}


def _upsample(x: torch.Tensor, size: Any) -> torch.Tensor:
    """torchvision's up-sampling of segmentation logits."""
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class TorchvisionSegmenter(ZooModel):
    """A torchvision segmenter (its ``backbone``, ``classifier``, ``aux_classifier``).

    Args:
        network: the torchvision model (``DeepLabV3``, ``FCN`` or ``LRASPP``) whose
            modules are taken over.
        head: ``"deeplabv3"``, ``"fcn"`` or ``"lraspp"``.
        num_classes: its classes.
        in_chans: its input channels.
        feature_info: the backbone stages (timm-style dicts).
        stage_modules: the parameter groups for freezing, stem … head.
    """

    def __init__(self, network: Any, *, head: str, num_classes: int, in_chans: int,
                 feature_info: list[dict[str, Any]],
                 stage_modules: dict[str, tuple[str, ...]]) -> None:
        super().__init__()
        self.kind = head  # "deeplabv3", "fcn" or "lraspp"
        self.num_classes = int(num_classes)
        self.in_chans = int(in_chans)
        self.backbone: Any = network.backbone
        self.classifier: Any = network.classifier
        if head != "lraspp":
            self.aux_classifier: Any = network.aux_classifier
        else:
            self.aux_classifier = None
        self.low_channels = int(self.classifier.low_classifier.in_channels) \
            if head == "lraspp" else 0
        self.num_features = int(self._final_conv_in())
        self.feature_info = feature_info
        self.stage_modules = stage_modules
        self.stages = tuple(stage_modules)
        self.output_stride = 8 if head == "lraspp" else int(feature_info[-1]["reduction"])

    # -- the pieces -------------------------------------------------------------------------
    def _final_conv_in(self) -> int:
        conv = self.get_classifier()
        return int(getattr(conv, "in_channels", 0) or getattr(conv, "in_features", 0))

    def _pre_logits(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """What the final classifier consumes, from the backbone's outputs."""
        if self.kind == "lraspp":
            low, high = features["low"], features["high"]
            head = self.classifier
            x = head.cbr(high) * head.scale(high)
            x = _upsample(x, low.shape[-2:])
            return torch.cat([low, x], dim=1)
        x = features["out"]
        layers = list(self.classifier.children())
        for layer in layers[:-1]:
            x = layer(x)
        return x

    def _classify(self, x: torch.Tensor) -> torch.Tensor:
        if self.kind == "lraspp":
            head = self.classifier
            low = x[:, :self.low_channels]
            return head.low_classifier(low) + head.high_classifier(x[:, self.low_channels:])
        return list(self.classifier.children())[-1](x)

    # -- the protocol -----------------------------------------------------------------------
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The final classifier's input at the output stride (see the module docstring)."""
        return self._pre_logits(self.backbone(x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """The final classifier, then bilinear up-sampling by the output stride."""
        if pre_logits or self.num_classes == 0:
            return x
        s = self.output_stride
        return _upsample(self._classify(x), (x.shape[-2] * s, x.shape[-1] * s))

    def forward(self, x: torch.Tensor) -> torch.Tensor | SegmentationOutputs:  # type: ignore[override]
        """``out`` logits at the input's size; ``(out, aux)`` in train mode with aux_loss."""
        size = x.shape[-2:]
        features = self.backbone(x)
        pre = self._pre_logits(features)
        if self.num_classes == 0:
            return pre
        out = _upsample(self._classify(pre), size)
        if self.training and self.aux_classifier is not None:
            return SegmentationOutputs(out, _upsample(self.aux_classifier(features["aux"]), size))
        return out

    def forward_aux(self, x: torch.Tensor) -> torch.Tensor:
        """The auxiliary head's logits at the input's size (only with ``aux_loss=True``)."""
        if self.aux_classifier is None:
            raise ModelOptionError("this model was built without an auxiliary head; create "
                                   "it with aux_loss=True")
        features = self.backbone(x)
        return _upsample(self.aux_classifier(features["aux"]), x.shape[-2:])

    def get_classifier(self) -> nn.Module:
        if self.kind == "lraspp":
            return self.classifier.high_classifier
        return list(self.classifier.children())[-1]

    def _make_classifier(self, num_classes: int) -> None:
        def conv(width: int) -> nn.Module:
            return nn.Conv2d(width, num_classes, 1) if num_classes > 0 else nn.Identity()

        if self.kind == "lraspp":
            self.classifier.low_classifier = conv(self.low_channels)
            self.classifier.high_classifier = conv(self.num_features)
            return
        self.classifier[-1] = conv(self.num_features)
        if self.aux_classifier is not None:
            self.aux_classifier[-1] = conv(int(self.aux_classifier[0].out_channels))


def _replace_first_conv(network: Any, backbone: str, in_chans: int) -> None:
    """Give the backbone a first convolution for ``in_chans`` channels (fresh weights)."""
    if in_chans == 3:
        return
    parent: Any = network.backbone if backbone == "resnet" else network.backbone["0"]
    name = "conv1" if backbone == "resnet" else "0"
    old: Any = parent.get_submodule(name)
    new = nn.Conv2d(in_chans, old.out_channels, old.kernel_size, old.stride, old.padding,
                    bias=old.bias is not None)
    nn.init.kaiming_normal_(new.weight, mode="fan_out", nonlinearity="relu")
    setattr(parent, name, new)


def _stage_modules(backbone: str, aux: bool) -> dict[str, tuple[str, ...]]:
    if backbone == "resnet":
        stages: dict[str, tuple[str, ...]] = {
            "stem": ("backbone.conv1", "backbone.bn1"),
            **{f"stage{i}": (f"backbone.layer{i}",) for i in range(1, 5)},
        }
    else:  # MobileNetV3's features 0-16, grouped by the feature taps
        groups = ((0, 1), (2, 3), (4, 5, 6), tuple(range(7, 13)), tuple(range(13, 17)))
        names = ("stem", "stage1", "stage2", "stage3", "stage4")
        stages = {n: tuple(f"backbone.{i}" for i in g) for n, g in zip(names, groups, strict=True)}
    stages["head"] = ("classifier", "aux_classifier") if aux else ("classifier",)
    return stages


def build_torchvision_segmenter(
    *,
    arch: str,
    num_classes: int = 21,
    in_chans: int = 3,
    aux_loss: bool = False,
) -> TorchvisionSegmenter:
    """Build one of torchvision's segmenters (random weights) in its exact layout.

    Args:
        arch: a key of :data:`ARCHITECTURES` (set by the spec).
        num_classes: output classes (21: the Pascal VOC labels of the COCO weights).
        in_chans: input channels (other than 3: a fresh first convolution).
        aux_loss: build the auxiliary FCN head for training (DeepLabV3 and FCN only);
            see the module docstring for what ``forward`` then returns.

    Raises:
        ModelOptionError: ``aux_loss=True`` for LR-ASPP, which has no auxiliary head.
    """
    spec = ARCHITECTURES[arch]
    if spec.head == "lraspp":
        if aux_loss:
            raise ModelOptionError("LR-ASPP has no auxiliary head; aux_loss=True applies "
                                   "to DeepLabV3 and FCN")
        network = spec.builder(weights=None, weights_backbone=None, num_classes=num_classes)
    else:
        network = spec.builder(weights=None, weights_backbone=None, num_classes=num_classes,
                               aux_loss=aux_loss)
    _replace_first_conv(network, spec.backbone, in_chans)
    feature_info = [{"module": f"backbone.{m}", "num_chs": c, "reduction": r}
                    for m, c, r in spec.taps]
    model = TorchvisionSegmenter(network, head=spec.head, num_classes=num_classes,
                                 in_chans=in_chans, feature_info=feature_info,
                                 stage_modules=_stage_modules(spec.backbone, aux_loss))
    model.pretrained_cfg = {
        "mean": per_channel(IMAGENET_MEAN, in_chans),
        "std": per_channel(IMAGENET_STD, in_chans),
        "input_size": (in_chans, 520, 520),
        "crop_pct": 1.0,
        "interpolation": "bilinear",
        "num_classes": num_classes,
        "labels": None,
    }
    return model


def convert_torchvision(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A torchvision segmenter's state dict for a model without the auxiliary head.

    The keys are torchvision's already; the ``aux_classifier.*`` tensors (present in
    the released COCO weights) are dropped. A model built with ``aux_loss=True`` never
    needs this: a checkpoint with the auxiliary head fits it as it is, and the loader
    tries that first.
    """
    return {k: v for k, v in state_dict.items() if not k.startswith(AUX_PREFIX)}
