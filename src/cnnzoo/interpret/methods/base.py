"""The method table and what every method shares.

* :class:`Method`: a method's rule, kind and options; :func:`register_method` adds
  one to :data:`METHODS` (the modules :mod:`~cnnzoo.interpret.methods.cam` and
  :mod:`~cnnzoo.interpret.methods.gradients` register the built-in ones when the
  package :mod:`cnnzoo.interpret.methods` is imported);
* :class:`Context`: what a rule may use besides the activations;
* :func:`scale_maps` / :func:`cam_to_maps`: normalisation exactly as
  pytorch-grad-cam's (ReLU, per-image min-max with ``1e-7``, bilinear resize to
  the input, min-max again).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo._utils import did_you_mean
from cnnzoo.errors import ExplainError
from cnnzoo.interpret.targets import TargetSet, model_outputs

__all__ = [
    "METHODS",
    "Context",
    "Method",
    "MethodKind",
    "cam_to_maps",
    "get_method",
    "method_names",
    "register_method",
    "scale_maps",
]

EPS = 1e-7  # pytorch-grad-cam's scale_cam_image: (x - min) / (1e-7 + max)

MethodKind = Literal["gradient_cam", "activation_cam", "input"]
Rule = TypeVar("Rule", bound=Callable[..., Any])


@dataclass(frozen=True)
class Method:
    """One explain method: its rule and the options it accepts (with defaults).

    ``kind`` says what the shared plumbing hands the rule:

    * ``"gradient_cam"``: ``rule(activations, gradients) -> cam [B, h, w]``
      (one forward, one backward for the batch);
    * ``"activation_cam"``: ``rule(activations, context, **options) -> cam``
      (``context`` has model, images, targets; no backward);
    * ``"input"``: ``rule(context, **options) -> (attributions, map)`` in input space.
    """

    name: str
    kind: MethodKind
    rule: Callable[..., Any]
    options: Mapping[str, Any] = field(default_factory=dict)
    summary: str = ""
    input_grad: bool = False  # "input" methods: the clean forward keeps a graph to the input


@dataclass
class Context:
    """What a rule may use besides activations: the model, the batch, its targets.

    ``x`` is the batch (a leaf requiring grad when the method asked for
    ``input_grad``); ``outputs`` the logits of the clean forward pass.
    """

    model: nn.Module
    images: torch.Tensor
    targets: TargetSet
    outputs: torch.Tensor
    x: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The model's logits for ``x`` (any batch of inputs like :attr:`images`)."""
        return model_outputs(self.model(x))


METHODS: dict[str, Method] = {}


def register_method(name: str, kind: MethodKind, *, summary: str = "", input_grad: bool = False,
                    **options: Any) -> Callable[[Rule], Rule]:
    """Decorator: register ``rule`` as the method ``name`` with its ``options`` and defaults.

    Args:
        name: the name ``explain(method=...)`` takes.
        kind: ``"gradient_cam"``, ``"activation_cam"`` or ``"input"`` (see :class:`Method`).
        summary: one line for listings.
        input_grad: ``"input"`` methods: keep the clean forward's graph to the input.
        **options: the options the rule accepts, with their defaults.

    Returns:
        the decorator, which returns the rule unchanged.
    """

    def deco(rule: Rule) -> Rule:
        METHODS[name] = Method(name, kind, rule, dict(options), summary, input_grad)
        return rule

    return deco


def get_method(name: str, options: Mapping[str, Any] | None = None) -> Method:
    """The method ``name`` (any case), after checking ``options`` against those it accepts.

    Raises:
        ExplainError: an unknown method or option, with the valid choices.
    """
    if not isinstance(name, str) or name.lower() not in METHODS:
        choices = list(METHODS)
        raise ExplainError(
            f"unknown method {name!r}; choose one of {', '.join(choices)}"
            + did_you_mean(str(name).lower(), choices)
        )
    method = METHODS[name.lower()]
    unknown = [k for k in options or {} if k not in method.options]
    if unknown:
        accepted = ", ".join(f"{k}={v!r}" for k, v in method.options.items()) or "none"
        raise ExplainError(
            f"method {method.name!r} got unknown option(s) {', '.join(unknown)}; it accepts: "
            f"{accepted}" + "".join(did_you_mean(k, list(method.options)) for k in unknown)
        )
    return method


def method_names() -> list[str]:
    """Every registered method name, in registration order."""
    return list(METHODS)


def scale_maps(maps: torch.Tensor) -> torch.Tensor:
    """Per-image ``(m - min) / (1e-7 + max(m - min))``, as pytorch-grad-cam scales."""
    ones = [1] * (maps.ndim - 1)
    shifted = maps - maps.flatten(1).min(1).values.view(-1, *ones)
    return shifted / (EPS + shifted.flatten(1).max(1).values.view(-1, *ones))


def cam_to_maps(cam: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """A layer-resolution CAM ``[B, h, w]`` → ``[B, H, W]`` maps in 0…1.

    pytorch-grad-cam's convention exactly: ReLU, min-max, bilinear resize
    (half-pixel centres, as ``cv2.resize`` and ``align_corners=False``), min-max.
    """
    cam = scale_maps(cam.clamp_min(0))
    if tuple(cam.shape[-2:]) != tuple(size):
        cam = F.interpolate(cam[:, None], size=size, mode="bilinear", align_corners=False)[:, 0]
    return scale_maps(cam)
