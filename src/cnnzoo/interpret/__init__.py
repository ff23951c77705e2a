"""Explain any model of the zoo: CAMs and input attributions, batched, segmentation-aware.

``cnnzoo.explain(model, images)`` is :func:`explain`; this package holds the rest:
``cnnzoo.interpret.Explanation``, ``cnnzoo.interpret.Target``, ``cnnzoo.interpret.views``…

Example:
    >>> import cnnzoo, torch
    >>> model = cnnzoo.create("lenet5", pretrained=True)
    >>> e = cnnzoo.explain(model, torch.randn(4, 1, 32, 32), method="gradcam++")
    >>> tuple(e.maps.shape), float(e.maps.min()) >= 0, float(e.maps.max()) <= 1
    ((4, 32, 32), True, True)
"""

from __future__ import annotations

from cnnzoo.errors import ExplainError
from cnnzoo.interpret.api import explain
from cnnzoo.interpret.core import METHODS, Explanation, Method, method_names, resolve_layer
from cnnzoo.interpret.targets import Target, TargetSet

__all__ = [
    "METHODS",
    "ExplainError",
    "Explanation",
    "Method",
    "Target",
    "TargetSet",
    "explain",
    "method_names",
    "resolve_layer",
]
