"""Building a model on the ``meta`` device and loading a state dict into it.

A model that will get weights is never initialised at random: it is built on
``meta`` (with random initialisers turned into no-ops) and the checkpoint's tensors
are assigned with ``load_state_dict(..., assign=True)``. The steps of
:func:`build_with_weights` are functions of their own: the saved head, the probe
build and layout conversion, the class count, the first-conv adaptation, the shape
check, the load, and the new head.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from cnnzoo.build.checkpoint import (
    adapt_input_conv,
    classifier_keys,
    convert_layout,
    describe_mismatch,
    first_conv_key,
)
from cnnzoo.build.heads import HeadSpec, replace_head
from cnnzoo.errors import CheckpointError, ModelArgumentError
from cnnzoo.models.base import protocol
from cnnzoo.spec import ModelSpec

Builder = Callable[..., nn.Module]
State = dict[str, torch.Tensor]


@dataclass
class LoadedModel:
    """A built model, the class count it was built with, and the builder options used."""

    model: nn.Module
    num_classes: int
    kwargs: dict[str, Any]


class SkipMetaInit(TorchFunctionMode):
    """Turns random initialisers into no-ops on meta tensors.

    A meta tensor holds no data, so initialising it is pure overhead — and torch runs
    ``normal_``/``uniform_`` on meta through slow Python decompositions (about 60 % of
    building ResNet-50 on meta). Real tensors are never affected.
    """

    SKIP = frozenset({
        torch.Tensor.normal_, torch.Tensor.uniform_, torch.Tensor.erfinv_,
        torch.Tensor.exponential_, torch.Tensor.bernoulli_, torch.Tensor.random_,
    })

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        if func in self.SKIP and args and isinstance(args[0], torch.Tensor) and args[0].is_meta:
            return args[0]
        return func(*args, **(kwargs or {}))


def build_module(spec: ModelSpec, builder: Builder, *, num_classes: int, in_chans: int,
                 kwargs: Mapping[str, Any], meta: bool = False,
                 head: HeadSpec | None = None) -> nn.Module:
    """Call the spec's builder (on ``meta`` when asked), then give it ``head`` if any."""
    call = {**spec.builder_args, **kwargs, "num_classes": num_classes, "in_chans": in_chans}
    if not meta:
        module = builder(**call)
        if head is not None:
            replace_head(module, num_classes, head)
        return module
    with torch.device("meta"), SkipMetaInit():
        module = builder(**call)
        if head is not None:
            replace_head(module, num_classes, head)
    return module


def saved_head_spec(spec: ModelSpec, saved_head: Any, saved_classes: int | None
                    ) -> HeadSpec | None:
    """The non-linear head weights were saved with (``None`` for the builder's own)."""
    if saved_head is None:
        return None
    head = HeadSpec.coerce(saved_head)
    if head.is_plain_linear:
        return None  # what the builder makes anyway
    if not saved_classes:
        raise CheckpointError(f"the config of these {spec.name!r} weights records a "
                              f"{head} head but no num_classes")
    return head


def convert_to_model_layout(spec: ModelSpec, probe: nn.Module, state: State,
                            kwargs: Mapping[str, Any]) -> tuple[State, dict[str, Any], bool]:
    """``state`` in the model's layout, the builder options that layout needs, and
    whether those options differ from what the probe was built with."""
    state, fmt, build_kwargs = convert_layout(spec, state, set(probe.state_dict()))
    conflicts = {k: v for k, v in build_kwargs.items() if k in kwargs and kwargs[k] != v}
    if conflicts:
        raise ModelArgumentError(
            f"a {fmt} checkpoint of {spec.name!r} needs {build_kwargs}; you passed {conflicts}"
        )
    return state, {**kwargs, **build_kwargs}, bool(build_kwargs)


def checkpoint_classes(probe: nn.Module, state: State, default: int,
                       head: HeadSpec | None) -> int:
    """The class count of the checkpoint's classifier (``default`` when it has none)."""
    head_keys = classifier_keys(probe)
    if head is None and head_keys and head_keys[0] in state:
        return int(state[head_keys[0]].shape[0])
    return default


def fit_state_to_model(spec: ModelSpec, model: nn.Module, state: State, *, in_chans: int,
                       num_classes: int) -> State:
    """``state`` with the first conv adapted to ``in_chans`` and every shape checked."""
    model_state = model.state_dict()
    conv_key = first_conv_key(model_state, state)
    if conv_key is not None:
        state = dict(state)
        state[conv_key] = adapt_input_conv(state[conv_key], in_chans)
    wrong = [
        f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(v.shape)}"
        for k, v in model_state.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    if wrong:
        raise CheckpointError(
            f"checkpoint tensors do not fit {spec.name!r} "
            f"(num_classes={num_classes}, in_chans={in_chans}): " + "; ".join(wrong[:8])
        )
    return {k: state[k] for k in model_state}


def assign_state(model: nn.Module, state: State, rebuild: Callable[[], nn.Module]
                 ) -> nn.Module:
    """Load ``state`` strictly with ``assign=True``; models with non-persistent meta
    buffers are rebuilt for real by ``rebuild`` and loaded normally."""
    result = model.load_state_dict(state, strict=True, assign=True)
    if result.missing_keys or result.unexpected_keys:  # strict=True raises first; belt and braces
        raise CheckpointError(describe_mismatch(result.missing_keys, result.unexpected_keys))
    if any(t.is_meta for t in (*model.parameters(), *model.buffers())):
        model = rebuild()
        model.load_state_dict(state, strict=True)
    return model


def swap_head(spec: ModelSpec, model: nn.Module, *, num_classes: int, ckpt_classes: int,
              head: HeadSpec | None) -> None:
    """Give ``model`` a fresh head for ``num_classes`` (the checkpoint had ``ckpt_classes``)."""
    head_keys = classifier_keys(model)
    if num_classes:
        warnings.warn(
            f"{spec.name}: the checkpoint's classifier has {ckpt_classes} classes; a new "
            f"head for num_classes={num_classes} was initialised at random "
            f"({', '.join(head_keys)} not loaded)",
            UserWarning,
            stacklevel=4,
        )
    if head is not None and num_classes:
        replace_head(model, num_classes, head)  # the same kind of head, fresh
    else:
        protocol(model).reset_classifier(num_classes)


def build_with_weights(
    spec: ModelSpec,
    builder: Builder,
    state: State,
    *,
    num_classes: int | None,
    in_chans: int,
    kwargs: Mapping[str, Any],
    saved_head: Any = None,
    saved_classes: int | None = None,
) -> LoadedModel:
    """Build on the meta device and load ``state`` with ``assign=True``.

    The checkpoint's own class count is used for the build so every tensor is
    assigned; a different requested ``num_classes`` then gets a fresh head. One meta
    build suffices unless the checkpoint's layout or class count asks for different
    builder arguments. Weights saved with a head (``saved_head``, from their config)
    get that head rebuilt before loading, and its keys load strictly.
    """
    head = saved_head_spec(spec, saved_head, saved_classes)
    probe_classes = spec.num_classes if num_classes in (None, 0) else int(num_classes)
    if head is not None or saved_classes is not None:
        probe_classes = int(saved_classes or 0)  # what the weights hold (0: no classifier)

    def build(n_classes: int, build_kwargs: Mapping[str, Any], meta: bool) -> nn.Module:
        return build_module(spec, builder, num_classes=n_classes, in_chans=in_chans,
                            kwargs=build_kwargs, meta=meta, head=head)

    probe = build(probe_classes, kwargs, True)
    state, kwargs, changed = convert_to_model_layout(spec, probe, state, kwargs)
    ckpt_classes = checkpoint_classes(probe, state, probe_classes, head)
    model = probe if ckpt_classes == probe_classes and not changed else build(
        ckpt_classes, kwargs, True)
    state = fit_state_to_model(spec, model, state, in_chans=in_chans, num_classes=ckpt_classes)
    model = assign_state(model, state, lambda: build(ckpt_classes, kwargs, False))
    n_cls = ckpt_classes
    if num_classes is not None and num_classes != ckpt_classes:
        swap_head(spec, model, num_classes=num_classes, ckpt_classes=ckpt_classes, head=head)
        n_cls = num_classes
    return LoadedModel(model, n_cls, dict(kwargs))
