"""Which layer a CAM looks at: ``layer="auto"``, a module name or the module itself.

``"auto"`` asks the model's spec for its ``cam_layer`` and falls back on the last
feature stage of ``model.feature_info``.
"""

from __future__ import annotations

from collections.abc import Mapping

from torch import nn

from cnnzoo._utils import did_you_mean
from cnnzoo.errors import ExplainError
from cnnzoo.interpret.checks import model_config
from cnnzoo.spec import is_model, model_info

__all__ = ["auto_layer_candidates", "feature_modules", "resolve_layer"]


def feature_modules(model: nn.Module) -> list[str]:
    """The module names of the model's feature stages (``feature_info``), in order."""
    info = getattr(model, "feature_info", None)
    if info is None:
        return []
    if hasattr(info, "module_name"):  # timm's FeatureInfo
        return [str(n) for n in info.module_name()]
    try:
        return [str(d["module"]) for d in info if isinstance(d, Mapping) and d.get("module")]
    except TypeError:
        return []


def auto_layer_candidates(model: nn.Module) -> list[str]:
    """Names ``layer="auto"`` tries, in order: the spec's ``cam_layer``, the last feature stage."""
    candidates: list[str] = []
    arch = model_config(model).get("architecture")
    if arch and is_model(arch):
        cam_layer = model_info(arch).cam_layer
        if cam_layer:
            candidates.append(cam_layer)
    feats = feature_modules(model)
    if feats:
        candidates.append(feats[-1])
    return candidates


def _auto_layer(model: nn.Module, modules: Mapping[str, nn.Module]) -> tuple[str, nn.Module]:
    candidates = auto_layer_candidates(model)
    for name in candidates:
        for spelling in (name, name.replace("_", ".")):
            if spelling in modules:
                return spelling, modules[spelling]
    children = ", ".join(n for n, _ in model.named_children())
    raise ExplainError(
        f"cannot choose a layer for {type(model).__name__} automatically "
        f"(tried: {', '.join(candidates) or 'no cam_layer in its spec and no feature_info'});"
        f" pass layer='<module name>', e.g. one of its children: {children}"
    )


def resolve_layer(model: nn.Module, layer: str | nn.Module) -> tuple[str, nn.Module]:
    """``(name, module)`` for ``"auto"``, a module name or a module of ``model``.

    Args:
        model: the model whose layer is wanted.
        layer: ``"auto"`` (the spec's ``cam_layer``, else the last feature stage), any
            name of ``model.named_modules()`` or one of its modules.

    Returns:
        the layer's name in ``model`` and the module.

    Raises:
        ExplainError: no such layer (with the closest names), a module that is not
            part of ``model``, or ``"auto"`` finding nothing.

    Example:
        >>> import cnnzoo
        >>> from cnnzoo.interpret import resolve_layer
        >>> resolve_layer(cnnzoo.create("lenet5"), "auto")[0]
        'stage1'
    """
    modules = dict(model.named_modules())
    if isinstance(layer, nn.Module):
        for name, module in modules.items():
            if module is layer:
                return name or type(model).__name__, module
        raise ExplainError(f"the layer {type(layer).__name__} is not a submodule of the model")
    if not isinstance(layer, str):
        raise ExplainError(f"layer must be 'auto', a module name or a module; got {layer!r}")
    if layer == "auto":
        return _auto_layer(model, modules)
    if layer in modules and layer:
        return layer, modules[layer]
    names = [n for n in modules if n]
    children = [n for n, _ in model.named_children()]
    raise ExplainError(
        f"the model has no layer {layer!r}" + did_you_mean(layer, names)
        + f" (its top-level layers: {', '.join(children)}; any name of "
        "model.named_modules() works, or layer='auto')"
    )
