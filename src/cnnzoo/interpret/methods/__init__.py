"""The explain methods: the table, and the modules that fill it.

Importing this package imports :mod:`~cnnzoo.interpret.methods.cam` and
:mod:`~cnnzoo.interpret.methods.gradients`, whose rules register themselves in the
table of :mod:`~cnnzoo.interpret.methods.base` (which they import first). The rule
modules import ``base``, never this package, and ``base`` imports neither of them,
so there is no cycle; any import of ``base`` goes through this package, so the
table is always complete.

Example:
    >>> from cnnzoo.interpret.methods import get_method, method_names
    >>> method_names()[:2], get_method("GradCAM").kind
    (['gradcam', 'gradcam++'], 'gradient_cam')
"""

from __future__ import annotations

# cam then gradients: the registration order is the order method_names() lists. Each
# imports ``base`` first (so the table exists before any rule registers).
from cnnzoo.interpret.methods import cam, gradients  # noqa: F401  (registration)
from cnnzoo.interpret.methods.base import (
    METHODS,
    Context,
    Method,
    MethodKind,
    get_method,
    method_names,
    register_method,
)

__all__ = [
    "METHODS",
    "Context",
    "Method",
    "MethodKind",
    "get_method",
    "method_names",
    "register_method",
]
