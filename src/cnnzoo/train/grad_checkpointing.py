"""Gradient checkpointing in :func:`~cnnzoo.train.fit`: less activation memory, more compute.

``fit(model, train, epochs=…, grad_checkpointing=True)`` calls the model's
``set_grad_checkpointing(True)`` for the run and restores the previous setting
afterwards. Every timm-backed family that timm can checkpoint has the method (timm
checkpoints its blocks, non-reentrant); the native networks — LeNet-5, AlexNet,
GoogLeNet, SqueezeNet, ShuffleNetV2, UNet and the segmentation zoo — get it from
:class:`~cnnzoo.models.base.ZooModel`, which checkpoints the modules of each stage
but the head (:mod:`cnnzoo.models.checkpointing`). A model that cannot is a
:class:`~cnnzoo.errors.TrainError` naming it, raised before the first step.

During the forward pass a checkpointed segment keeps only its input; the backward
pass runs the segment's forward again to get the activations it needs. Gradients are
those of the plain model, activation memory drops roughly to the segments' inputs
plus one segment's activations, and every step costs about one more forward pass
(``bench/grad_checkpointing.py`` measures both).

Example:
    >>> import cnnzoo
    >>> from cnnzoo.train.grad_checkpointing import grad_checkpointing
    >>> model = cnnzoo.create("lenet5")
    >>> with grad_checkpointing(model):
    ...     model.grad_checkpointing
    True
    >>> model.grad_checkpointing
    False
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping

from torch import nn

from cnnzoo.errors import CnnzooError, TrainError

__all__ = [
    "check_grad_checkpointing",
    "grad_checkpointing",
    "set_grad_checkpointing",
    "supports_grad_checkpointing",
]


def _name(model: nn.Module) -> str:
    """``'resnet18' (timm's ResNet)`` — the architecture, if known, and the class."""
    cls = type(model)
    owner = cls.__module__.split(".")[0]
    kind = f"{owner}'s {cls.__name__}" if owner != "cnnzoo" else cls.__name__
    cfg = getattr(model, "pretrained_cfg", None)
    arch = cfg.get("architecture") if isinstance(cfg, Mapping) else None
    return f"{arch!r} ({kind})" if arch else kind


def supports_grad_checkpointing(model: nn.Module) -> bool:
    """Whether ``model`` can be trained with gradient checkpointing (tries it, then restores)."""
    try:
        check_grad_checkpointing(model)
    except TrainError:
        return False
    return True


def set_grad_checkpointing(model: nn.Module, enable: bool = True) -> None:
    """``model.set_grad_checkpointing(enable)``, with a clear error when it cannot.

    Raises:
        TrainError: the model has no ``set_grad_checkpointing``, or refuses it (timm's
            VGG and Inception-v3, a native model whose stages are unknown); the message
            names the model.
    """
    setter = getattr(model, "set_grad_checkpointing", None)
    if not callable(setter):
        raise TrainError(f"{_name(model)} does not support gradient checkpointing (it has no "
                         "set_grad_checkpointing); the timm-backed families and cnnzoo's native "
                         "networks do")
    try:
        setter(bool(enable))
    except (AssertionError, NotImplementedError, CnnzooError, ValueError) as exc:
        detail = str(exc) or type(exc).__name__
        raise TrainError(f"{_name(model)} does not support gradient checkpointing: "
                         f"{detail}") from exc


def _current(model: nn.Module) -> bool:
    return bool(getattr(model, "grad_checkpointing", False))


def check_grad_checkpointing(model: nn.Module) -> None:
    """Raise :class:`~cnnzoo.errors.TrainError` now if ``model`` cannot be checkpointed.

    It switches checkpointing on and back to the model's previous setting.
    """
    before = _current(model)
    set_grad_checkpointing(model, True)
    if not before:
        set_grad_checkpointing(model, False)


@contextlib.contextmanager
def grad_checkpointing(model: nn.Module, enable: bool = True) -> Iterator[None]:
    """Gradient checkpointing on for the block (``enable=False``: nothing changes).

    The model's previous setting (its ``grad_checkpointing`` attribute, as timm's
    models and :class:`~cnnzoo.models.base.ZooModel` keep it) is restored on exit.

    Raises:
        TrainError: the model does not support it (see :func:`set_grad_checkpointing`).
    """
    if not enable:
        yield
        return
    before = _current(model)
    set_grad_checkpointing(model, True)
    try:
        yield
    finally:
        if not before:
            set_grad_checkpointing(model, False)
