"""Gradient checkpointing for the native networks: run named submodules through ``checkpoint``.

Gradient checkpointing stores only the *inputs* of chosen segments of the network
during the forward pass and recomputes everything inside a segment during the
backward pass, trading one extra forward of each segment for the memory of its
activations. :meth:`cnnzoo.models.base.ZooModel.set_grad_checkpointing` uses this
module; timm's models have their own ``set_grad_checkpointing``.

A segment is one submodule, named as in ``model.named_modules()``. Enabling sets the
module's ``forward`` (an instance attribute, so the class and the state dict are
untouched) to a :class:`CheckpointedForward`, which calls the class's ``forward``
through ``torch.utils.checkpoint.checkpoint(..., use_reentrant=False)``; disabling
removes it. Gradients are those of the plain forward: the recomputation replays the
random number generator (dropout draws the same masks) and BatchNorm's running
statistics are restored after it, so they are updated once per step, not twice.

The default segments (:func:`default_checkpoint_modules`) are the modules of the
model's stages — ``model.stage_modules`` or its spec's ``stage_modules`` — except the
head's, leaving out modules without parameters; a module whose only child holding
parameters is an ``nn.ModuleList`` (a UNet decoder) is split into the list's blocks.

Example:
    >>> import cnnzoo
    >>> from cnnzoo.models.checkpointing import checkpointed_modules
    >>> model = cnnzoo.create("lenet5")
    >>> model.set_grad_checkpointing(True)
    >>> checkpointed_modules(model)
    ['stem', 'stage1', 'pre_logits']
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import torch
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint

from cnnzoo.errors import StageError
from cnnzoo.spec import REGISTRY

__all__ = [
    "CheckpointedForward",
    "checkpointed_modules",
    "default_checkpoint_modules",
    "set_checkpointed",
]

HEAD_STAGES: tuple[str, ...] = ("head",)


class CheckpointedForward:
    """A module's ``forward`` through ``torch.utils.checkpoint`` (set on the module itself).

    Without autograd recording (``torch.no_grad()``, inference) it is the plain
    forward. A deep copy of the module (``copy.deepcopy``, EMA) carries a wrapper of
    the copy.

    Args:
        module: the module whose class ``forward`` is checkpointed.
    """

    def __init__(self, module: nn.Module) -> None:
        self.module = module

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        module = self.module
        forward = type(module).forward.__get__(module)
        if not torch.is_grad_enabled() or torch.jit.is_scripting():
            return forward(*args, **kwargs)
        return checkpoint(forward, *args, use_reentrant=False,
                          context_fn=lambda: _contexts(module), **kwargs)

    def __repr__(self) -> str:
        return f"CheckpointedForward({type(self.module).__name__})"


def _contexts(module: nn.Module) -> tuple[contextlib.AbstractContextManager[None],
                                          contextlib.AbstractContextManager[None]]:
    """``checkpoint``'s ``context_fn``: nothing around the forward, stats kept around the replay."""
    return contextlib.nullcontext(), _running_stats_kept(module)


@contextlib.contextmanager
def _running_stats_kept(module: nn.Module) -> Iterator[None]:
    """Restore the BatchNorm running statistics the recomputation would update a second time."""
    saved = [(buf, buf.clone()) for m in module.modules()
             if isinstance(m, _BatchNorm) and m.training and m.track_running_stats
             for buf in (m.running_mean, m.running_var, m.num_batches_tracked)
             if buf is not None]
    try:
        yield
    finally:
        with torch.no_grad():
            for buf, value in saved:
                buf.copy_(value)


def _has_parameters(module: nn.Module) -> bool:
    return next(module.parameters(), None) is not None


def _segments(name: str, module: nn.Module) -> list[str]:
    """``name`` itself, its blocks (a ``ModuleList``'s, which has no forward), or nothing."""
    if not _has_parameters(module):
        return []
    if isinstance(module, nn.ModuleList):
        return [f"{name}.{i}" for i, block in enumerate(module) if _has_parameters(block)]
    holders = [(n, m) for n, m in module.named_children() if _has_parameters(m)]
    own = any(True for _ in module.parameters(recurse=False))
    if len(holders) == 1 and isinstance(holders[0][1], nn.ModuleList) and not own:
        return _segments(f"{name}.{holders[0][0]}", holders[0][1])
    return [name]


def _stage_table(model: nn.Module) -> Mapping[str, Iterable[str]]:
    """The model's stages: its own ``stage_modules`` or its spec's."""
    own = getattr(model, "stage_modules", None)
    if isinstance(own, Mapping) and own:
        return own
    cfg = getattr(model, "pretrained_cfg", None)
    arch = cfg.get("architecture") if isinstance(cfg, Mapping) else None
    if not arch:
        raise StageError(f"{type(model).__name__} has no stage_modules and no "
                         "pretrained_cfg['architecture'], so its stages are unknown; build it "
                         "with cnnzoo.create() or override grad_checkpoint_modules()")
    spec = REGISTRY.get(str(arch))
    if not spec.stage_modules:
        raise StageError(f"{spec.name!r} declares no stage_modules to checkpoint")
    return spec.stage_modules


def default_checkpoint_modules(model: nn.Module) -> list[str]:
    """The segments :meth:`~cnnzoo.models.base.ZooModel.set_grad_checkpointing` wraps by default.

    The modules of every stage but the head, in the stages' order, without those that
    hold no parameters; ``ModuleList``-only containers are split into their blocks.

    Raises:
        StageError: the model's stages are unknown, or name modules it does not have.
    """
    out: list[str] = []
    for stage, prefixes in _stage_table(model).items():
        if stage in HEAD_STAGES:
            continue
        for prefix in prefixes:
            try:
                module = model.get_submodule(prefix)
            except AttributeError:
                raise StageError(f"stage {stage!r} of {type(model).__name__} names "
                                 f"{prefix!r}, which is not a submodule") from None
            out += [s for s in _segments(prefix, module) if s not in out]
    return out


def set_checkpointed(model: nn.Module, names: Iterable[str], enable: bool = True) -> list[str]:
    """Checkpoint the submodules ``names`` of ``model`` (``enable``), or none of them.

    Disabling removes every :class:`CheckpointedForward` in ``model``, whatever names
    were enabled.

    Args:
        model: the network.
        names: submodule names (``model.get_submodule`` paths).
        enable: wrap them (``True``) or unwrap all (``False``).

    Returns:
        the names now checkpointed.

    Raises:
        StageError: a name that is not a submodule, a module whose ``forward`` is
            already replaced by something else, or nothing to checkpoint.
    """
    chosen = list(dict.fromkeys(names)) if enable else []
    if enable and not chosen:
        raise StageError(f"{type(model).__name__} has no module to checkpoint")
    modules = []
    for name in chosen:
        try:
            module = model.get_submodule(name)
        except AttributeError:
            raise StageError(f"{type(model).__name__} has no submodule {name!r}") from None
        current = module.__dict__.get("forward")
        if current is not None and not isinstance(current, CheckpointedForward):
            raise StageError(f"{name!r} ({type(module).__name__}) already has its forward "
                             "replaced; it cannot be checkpointed as well")
        modules.append(module)
    for _, module in model.named_modules():
        if isinstance(module.__dict__.get("forward"), CheckpointedForward):
            del module.__dict__["forward"]
    for module in modules:
        module.__dict__["forward"] = CheckpointedForward(module)
    return chosen


def checkpointed_modules(model: nn.Module) -> list[str]:
    """The names of the submodules of ``model`` that run through ``checkpoint`` now."""
    return [name for name, module in model.named_modules()
            if isinstance(module.__dict__.get("forward"), CheckpointedForward)]
