"""Any zoo classifier as the encoder of a dense-prediction model.

:func:`build_encoder` turns a model name (built-in or plugin) into a ``features_only``
module through :func:`~cnnzoo.build.factory.create`; :func:`encoder_stage_modules`
groups its parameters into stages for freezing and per-stage learning rates. The
decoders (UNet today) need only the encoder's channels and reductions.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from cnnzoo.build.factory import create
from cnnzoo.errors import ModelArgumentError, ModelOptionError


def resolve_feature_module(encoder: nn.Module, name: str) -> str | None:
    """The path inside ``encoder`` of the feature module ``name``, or ``None``.

    Feature wrappers rename modules: timm's flattens ``stages.0`` to ``stages_0``,
    cnnzoo's keeps the full model under ``model.``.
    """
    modules = dict(encoder.named_modules())
    spellings = (name, name.replace(".", "_"))
    for candidate in spellings:
        if candidate and candidate in modules:
            return candidate
    matches = [m for m in modules if any(m.endswith("." + c) for c in spellings if c)]
    if not matches:
        return None
    depth = min(m.count(".") for m in matches)
    shallowest = [m for m in matches if m.count(".") == depth]  # model.act1, not layer1.0.act1
    return shallowest[0] if len(shallowest) == 1 else None


def encoder_stage_modules(
    encoder: nn.Module, feature_modules: Sequence[str | None]
) -> dict[str, tuple[str, ...]]:
    """Group an encoder's parameters into stages ``stem``, ``stage1``… by its features.

    When the feature modules are siblings (children of one module, as in timm's and
    cnnzoo's feature wrappers), stage *i* owns the siblings after feature *i-1* up to
    feature *i*; siblings after the last feature and parameters outside that parent
    go to the last stage. Otherwise the whole encoder is one ``encoder`` stage.
    """
    fallback: dict[str, tuple[str, ...]] = {"encoder": ("encoder",)}
    if not feature_modules or any(m is None for m in feature_modules):
        return fallback
    names = [str(m) for m in feature_modules]
    parents = {n.rpartition(".")[0] for n in names}
    if len(parents) != 1:
        return fallback
    root_name = parents.pop()
    root = encoder.get_submodule(root_name) if root_name else encoder
    children = [n for n, _ in root.named_children()]
    ends = [children.index(n.rpartition(".")[2]) for n in names]
    if ends != sorted(ends) or len(set(ends)) != len(ends):
        return fallback
    prefix = f"encoder.{root_name}." if root_name else "encoder."
    stages = ["stem", *(f"stage{i}" for i in range(1, len(ends)))]
    groups: dict[str, list[str]] = {n: [] for n in stages}
    stage = 0
    for i, child in enumerate(children):
        groups[stages[stage]].append(prefix + child)
        if stage < len(ends) - 1 and i == ends[stage]:
            stage += 1
    inside = tuple(prefix + c for c in children)
    for pname, _ in encoder.named_parameters():
        full = f"encoder.{pname}"
        if not any(full == p or full.startswith(p + ".") for p in inside):
            groups[stages[-1]].append(full)
    return {n: tuple(prefixes) for n, prefixes in groups.items() if prefixes}


def build_encoder(
    encoder: str | nn.Module, encoder_pretrained: bool | str, in_chans: int
) -> nn.Module:
    if isinstance(encoder, nn.Module):
        if encoder_pretrained:
            raise ModelOptionError(
                "encoder_pretrained applies to an encoder given by name; the encoder module "
                "passed is used as it is"
            )
        module = encoder
    else:
        module = create(encoder, pretrained=encoder_pretrained, in_chans=in_chans,
                        features_only=True)
    info = getattr(module, "feature_info", None)
    if not (hasattr(info, "channels") and hasattr(info, "reduction")):
        raise ModelArgumentError(
            f"the UNet encoder must be a features_only module whose feature_info has "
            f"channels() and reduction() (timm's FeatureInfo); got {type(module).__name__}"
        )
    return module
