"""Explain any model of the zoo: CAMs and input attributions, batched, segmentation-aware.

``cnnzoo.explain(model, images)`` is :func:`explain`; this package holds the rest:
``cnnzoo.interpret.Explanation``, ``cnnzoo.interpret.Target``, ``cnnzoo.interpret.views``…

One job per module, each importing only those above it in this list:
:mod:`~cnnzoo.interpret.targets` (what is explained), :mod:`~cnnzoo.interpret.checks`
(input and option checks), :mod:`~cnnzoo.interpret.layers` (``layer="auto"``),
:mod:`~cnnzoo.interpret.render` (colours, overlays, PNGs),
:mod:`~cnnzoo.interpret.result` (:class:`Explanation`),
:mod:`~cnnzoo.interpret.capture` (the recording forward pass),
:mod:`~cnnzoo.interpret.methods` (the method table, the CAMs and the input
attributions), :mod:`~cnnzoo.interpret.api` (:func:`explain`) and
:mod:`~cnnzoo.interpret.views` (matplotlib figures).

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
from cnnzoo.interpret.layers import resolve_layer
from cnnzoo.interpret.methods import METHODS, Method, method_names
from cnnzoo.interpret.result import Explanation
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
