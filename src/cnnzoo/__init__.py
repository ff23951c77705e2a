"""cnnzoo: a plugin-based zoo of convolutional networks.

Importing cnnzoo is cheap: the public API is re-exported lazily, so
``import cnnzoo; cnnzoo.list_models()`` imports neither torch, torchvision nor timm.

Example:
    >>> import cnnzoo
    >>> "resnet50" in cnnzoo.list_models("resnet*")
    True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cnnzoo.registry import (
    CnnzooError,
    ModelSpec,
    WeightsSpec,
    is_model,
    list_models,
    model_info,
)

__version__ = "0.1.0"

_LAZY = {
    "create": ("cnnzoo.factory", "create"),
    "analysis": ("cnnzoo.analysis", None),
    "heads": ("cnnzoo.heads", None),
    "transfer": ("cnnzoo.transfer", None),
    "train": ("cnnzoo.train", None),
    "explain": ("cnnzoo.explain", None),  # a callable module: cnnzoo.explain(model, x)
    "export": ("cnnzoo.export", None),
    "quantize": ("cnnzoo.quantize", None),  # a callable module: cnnzoo.quantize(model, …)
}

__all__ = [
    "CnnzooError",
    "ModelSpec",
    "WeightsSpec",
    "__version__",
    "analysis",
    "create",
    "explain",
    "export",
    "heads",
    "is_model",
    "list_models",
    "model_info",
    "quantize",
    "train",
    "transfer",
]

if TYPE_CHECKING:
    from cnnzoo import analysis, heads, train, transfer
    from cnnzoo.factory import create


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'cnnzoo' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
