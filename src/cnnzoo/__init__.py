"""cnnzoo: a plugin-based zoo of convolutional networks.

Importing cnnzoo is cheap: every subpackage and verb below is reached lazily, on
first attribute access, so ``import cnnzoo; cnnzoo.list_models()`` imports neither
torch, torchvision nor timm, while ``cnnzoo.hub``, ``cnnzoo.export``… work after a
plain ``import cnnzoo``. Packages are nouns (``cnnzoo.analysis``); verbs are
functions (``cnnzoo.create``, ``cnnzoo.explain``, ``cnnzoo.quantize``).

Example:
    >>> import cnnzoo
    >>> "resnet50" in cnnzoo.list_models("resnet*")
    True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cnnzoo._version import __version__
from cnnzoo.errors import CnnzooError
from cnnzoo.spec import ModelSpec, WeightsSpec, is_model, list_models, model_info

# name -> (module, attribute); attribute None means the module itself.
_LAZY: dict[str, tuple[str, str | None]] = {
    # verbs
    "create": ("cnnzoo.build.factory", "create"),
    "explain": ("cnnzoo.interpret.api", "explain"),
    "quantize": ("cnnzoo.deploy.quantization", "quantize"),
    "fit": ("cnnzoo.train.loop", "fit"),
    "evaluate": ("cnnzoo.deploy.evaluation", "evaluate"),
    # types
    "ModelConfig": ("cnnzoo.config", "ModelConfig"),
    "ZooModelProtocol": ("cnnzoo.models.base", "ZooModelProtocol"),
    # subpackages and modules
    "analysis": ("cnnzoo.analysis", None),
    "build": ("cnnzoo.build", None),
    "catalog": ("cnnzoo.catalog", None),
    "checkpoint": ("cnnzoo.build.checkpoint", None),
    "cli": ("cnnzoo.cli", None),
    "config": ("cnnzoo.config", None),
    "data": ("cnnzoo.data", None),
    "deploy": ("cnnzoo.deploy", None),
    "errors": ("cnnzoo.errors", None),
    "export": ("cnnzoo.deploy.export", None),
    "features": ("cnnzoo.build.features", None),
    "heads": ("cnnzoo.build.heads", None),
    "hub": ("cnnzoo.hub", None),
    "interpret": ("cnnzoo.interpret", None),
    "losses": ("cnnzoo.train.losses", None),
    "models": ("cnnzoo.models", None),
    "predict": ("cnnzoo.deploy.predict", None),
    "bench": ("cnnzoo.deploy.bench", None),
    "registry": ("cnnzoo.registry", None),
    "spec": ("cnnzoo.spec", None),
    "train": ("cnnzoo.train", None),
    "transfer": ("cnnzoo.train.transfer", None),
    "weights": ("cnnzoo.build.weights", None),
}

__all__ = [
    "CnnzooError",
    "ModelConfig",
    "ModelSpec",
    "WeightsSpec",
    "ZooModelProtocol",
    "__version__",
    "analysis",
    "bench",
    "build",
    "catalog",
    "checkpoint",
    "cli",
    "config",
    "create",
    "data",
    "deploy",
    "errors",
    "evaluate",
    "explain",
    "export",
    "features",
    "fit",
    "heads",
    "hub",
    "interpret",
    "is_model",
    "list_models",
    "losses",
    "model_info",
    "models",
    "predict",
    "quantize",
    "registry",
    "spec",
    "train",
    "transfer",
    "weights",
]

if TYPE_CHECKING:
    from cnnzoo import (
        analysis,
        build,
        catalog,
        cli,
        config,
        data,
        deploy,
        errors,
        hub,
        interpret,
        models,
        registry,
        spec,
        train,
    )
    from cnnzoo.build import checkpoint, features, heads, weights
    from cnnzoo.build.factory import create
    from cnnzoo.config import ModelConfig
    from cnnzoo.deploy import bench, export, predict
    from cnnzoo.deploy.evaluation import evaluate
    from cnnzoo.deploy.quantization import quantize
    from cnnzoo.interpret.api import explain
    from cnnzoo.models.base import ZooModelProtocol
    from cnnzoo.train import losses, transfer
    from cnnzoo.train.loop import fit


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
