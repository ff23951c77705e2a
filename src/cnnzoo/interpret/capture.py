"""One forward pass that records a layer's activations (and prepares the backward).

Activations are recorded by a forward hook that *replaces* the layer's output by a
detached leaf (then a clone of it): the part of the network before the layer runs
without autograd, the backward covers only the part after it, in-place activations
downstream modify the clone and never the recorded tensor, and gradients come from
``torch.autograd.grad`` w.r.t. that leaf — the parameters never get ``.grad``.
The model's train/eval modes are handled by the caller with
:func:`cnnzoo._utils.eval_mode`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from cnnzoo.errors import ExplainError
from cnnzoo.interpret.targets import model_outputs

__all__ = ["Captured", "capture"]

Hook = Callable[[nn.Module, object, object], "torch.Tensor | None"]


@dataclass
class Captured:
    """One forward pass: the model's outputs and the hooked layer's activations."""

    outputs: torch.Tensor
    activations: torch.Tensor


def _recording_hook(name: str, store: list[torch.Tensor], grad: bool) -> Hook:
    """A forward hook that appends the layer's output to ``store`` (see :func:`capture`)."""

    def hook(_module: nn.Module, _args: object, output: object) -> torch.Tensor | None:
        if not isinstance(output, torch.Tensor) or output.ndim != 4:
            shape = tuple(output.shape) if isinstance(output, torch.Tensor) else type(
                output).__name__
            raise ExplainError(
                f"layer {name!r} outputs {shape}; CAM methods need a feature map "
                "[B, C, H, W] — pick another layer (layer='auto' picks the last feature stage)"
            )
        if store:
            raise ExplainError(
                f"layer {name!r} runs more than once in a forward pass; pick a layer that "
                "runs once"
            )
        leaf = output.detach()
        if grad:
            leaf.requires_grad_(True)
            store.append(leaf)
            torch.set_grad_enabled(True)  # from here on; the caller's no_grad() restores it
            return leaf.clone()  # in-place ops downstream write into the clone
        store.append(leaf.clone())
        return None

    return hook


def capture(model: nn.Module, module: nn.Module, name: str, images: torch.Tensor, *,
            grad: bool) -> Captured:
    """Run ``model(images)`` once, recording ``module``'s output.

    With ``grad=True`` the layer's output is replaced by a leaf tensor requiring
    grad (the activations) followed by a clone, and autograd is switched on from
    that point: the outputs' graph reaches back to the activations only, so the
    backward pass is as short as it can be and touches no parameter's ``.grad``.
    The hook is removed whatever happens.

    Args:
        model: the model, already in the mode it should run in.
        module: the layer of ``model`` to record.
        name: the layer's name, for error messages.
        images: the batch.
        grad: prepare ``torch.autograd.grad(score, captured.activations)``.

    Returns:
        the logits and the activations ``[B, C, h, w]``.

    Raises:
        ExplainError: the layer outputs no feature map, runs more than once or not
            at all, or the outputs do not depend on it.
    """
    store: list[torch.Tensor] = []
    handle = module.register_forward_hook(_recording_hook(name, store, grad))
    try:
        with torch.no_grad():
            outputs = model_outputs(model(images))
    finally:
        handle.remove()
    if not store:
        raise ExplainError(f"layer {name!r} did not run in the model's forward pass")
    if grad and not outputs.requires_grad:
        raise ExplainError(f"the model's output does not depend on layer {name!r}")
    return Captured(outputs, store[0])
