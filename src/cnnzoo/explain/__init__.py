"""Explain any model of the zoo: CAMs and input attributions, batched, segmentation-aware.

``cnnzoo.explain(model, images)`` is :func:`explain`: this module is callable, so
``cnnzoo.explain(...)`` works however it was imported, and ``cnnzoo.explain.views``,
``cnnzoo.explain.Target``… reach the rest.

Example:
    >>> import cnnzoo, torch
    >>> model = cnnzoo.create("lenet5", pretrained=True)
    >>> e = cnnzoo.explain(model, torch.randn(4, 1, 32, 32), method="gradcam++")
    >>> tuple(e.maps.shape), float(e.maps.min()) >= 0, float(e.maps.max()) <= 1
    ((4, 32, 32), True, True)
"""

from __future__ import annotations

import sys
import types
from typing import Any

from cnnzoo.explain.api import explain
from cnnzoo.explain.core import (
    METHODS,
    ExplainError,
    Explanation,
    Method,
    method_names,
    resolve_layer,
)
from cnnzoo.explain.targets import Target, TargetSet

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


class _CallableModule(types.ModuleType):
    """``cnnzoo.explain`` is both this package and the function it exports."""

    def __call__(self, *args: Any, **kwargs: Any) -> Explanation:
        return explain(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
