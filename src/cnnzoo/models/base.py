"""The model protocol for cnnzoo's native networks.

timm's models already speak this protocol; :class:`ZooModel` gives the networks no
library provides (LeNet-5, AlexNet, GoogLeNet, UNet) the same surface:
``forward_features``, ``forward_head``, ``get_classifier``, ``reset_classifier``,
``pretrained_cfg``, ``feature_info``, ``default_cfg``-free naming and timm's
``set_grad_checkpointing`` (see :mod:`cnnzoo.models.checkpointing`).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, Protocol, cast, runtime_checkable

import torch
from torch import nn

from cnnzoo._utils import per_channel
from cnnzoo.models.checkpointing import default_checkpoint_modules, set_checkpointed
from cnnzoo.spec import IMAGENET_MEAN, IMAGENET_STD


@runtime_checkable
class ZooModelProtocol(Protocol):
    """The surface every model that :func:`cnnzoo.create` returns offers.

    timm's models, cnnzoo's native networks and plugins all satisfy it; the verbs
    (``fit``, ``explain``, ``export``…) rely on nothing else.
    """

    num_classes: int
    pretrained_cfg: Mapping[str, Any]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone: image batch → the last feature map."""
        ...

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """The head: features → logits (or the pooled features with ``pre_logits``)."""
        ...

    def get_classifier(self) -> nn.Module:
        """The final layer that maps features to classes."""
        ...

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier with a freshly initialised one for ``num_classes``."""
        ...


class ZooModel(nn.Module):
    """Base class of the native networks.

    Subclasses set ``num_classes``, ``num_features`` (channels entering the
    classifier), ``feature_info`` (a list of ``{"module", "num_chs", "reduction"}``
    dicts, as in timm) and implement :meth:`forward_features`,
    :meth:`forward_head`, :meth:`get_classifier` and :meth:`_make_classifier`.
    A subclass whose stages make poor checkpointing segments overrides
    :meth:`grad_checkpoint_modules`.
    """

    num_classes: int
    num_features: int
    in_chans: int
    feature_info: list[dict[str, Any]]
    grad_checkpointing: bool = False

    def __init__(self) -> None:
        super().__init__()
        self.pretrained_cfg: dict[str, Any] = {}

    @abstractmethod
    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """The backbone: image batch → the last feature map (or pre-pool features)."""

    @abstractmethod
    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        """The head: features → logits (or the pooled features with ``pre_logits``)."""

    @abstractmethod
    def get_classifier(self) -> nn.Module:
        """The final layer that maps features to classes."""

    @abstractmethod
    def _make_classifier(self, num_classes: int) -> None:
        """Replace the final layer with a freshly initialised one for ``num_classes``."""

    def reset_classifier(self, num_classes: int) -> None:
        """Replace the classifier with a freshly initialised one for ``num_classes``."""
        self.num_classes = int(num_classes)
        self._make_classifier(int(num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head(self.forward_features(x))

    def grad_checkpoint_modules(self) -> list[str]:
        """The submodules :meth:`set_grad_checkpointing` checkpoints, one segment each.

        By default the modules of every stage but the head (the spec's
        ``stage_modules``), see :func:`cnnzoo.models.checkpointing.default_checkpoint_modules`.
        """
        return default_checkpoint_modules(self)

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute each segment's activations in the backward pass instead of storing them.

        timm's method of the same name, for the native networks: the forward of every
        module of :meth:`grad_checkpoint_modules` runs through
        ``torch.utils.checkpoint.checkpoint(..., use_reentrant=False)``; the gradients
        are unchanged.

        Raises:
            StageError: the model's stages are unknown (build it with
                :func:`cnnzoo.create`) or hold nothing to checkpoint.
        """
        set_checkpointed(self, self.grad_checkpoint_modules() if enable else (), enable)
        self.grad_checkpointing = bool(enable)


def imagenet_cfg(in_chans: int, size: int = 224, crop_pct: float = 0.875,
                 num_classes: int | None = None) -> dict[str, Any]:
    """The preprocessing of an ImageNet-trained native model, for ``in_chans`` channels.

    Mean and std are ImageNet's, adapted by the one rule of :func:`cnnzoo._utils.per_channel`.
    """
    return {
        "mean": per_channel(IMAGENET_MEAN, in_chans),
        "std": per_channel(IMAGENET_STD, in_chans),
        "input_size": (in_chans, size, size),
        "crop_pct": crop_pct,
        "interpolation": "bilinear",
        "num_classes": num_classes,
        "labels": None,
    }


def protocol(model: nn.Module) -> ZooModelProtocol:
    """``model`` seen through the model protocol (for type checkers; no runtime check)."""
    return cast(ZooModelProtocol, model)
