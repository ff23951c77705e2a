"""Validating what :func:`cnnzoo.create` is given, before anything is built."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch import nn

from cnnzoo._utils import did_you_mean
from cnnzoo.build.features import select_stages
from cnnzoo.build.heads import HeadSpec
from cnnzoo.errors import ModelArgumentError
from cnnzoo.spec import ModelSpec, import_object

# Arguments create() sets itself; a builder receives them but a user passes them to create().
RESERVED = ("num_classes", "in_chans")


def builder_parameters(spec: ModelSpec) -> dict[str, inspect.Parameter]:
    """The keyword arguments a user may pass to ``create()`` for this spec."""
    builder = import_object(spec.builder)
    params = inspect.signature(builder).parameters
    return {
        name: p
        for name, p in params.items()
        if name not in spec.builder_args
        and name not in RESERVED
        and p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)
    }


def check_kwargs(spec: ModelSpec, builder: Callable[..., nn.Module],
                 kwargs: Mapping[str, Any]) -> None:
    """Raise :class:`ModelArgumentError` for options the builder does not take."""
    params = inspect.signature(builder).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return
    allowed = builder_parameters(spec)
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        hints = "".join(did_you_mean(k, allowed) for k in unknown)
        raise ModelArgumentError(
            f"create({spec.name!r}) got unexpected keyword argument(s) {', '.join(unknown)}; "
            f"{spec.name!r} accepts: "
            + (", ".join(sorted(allowed)) or "none besides num_classes and in_chans")
            + hints
        )


def non_negative_int(value: Any, what: str) -> int:
    """``value`` when it is an ``int`` ≥ 0 (not a bool), else a clear error."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ModelArgumentError(f"{what} must be a non-negative int, got {value!r}")
    return value


def check_arguments(spec: ModelSpec, builder: Callable[..., nn.Module],
                    kwargs: Mapping[str, Any], *, num_classes: int | None,
                    in_chans: int | None, features_only: bool,
                    out_indices: Sequence[int] | None,
                    head: str | HeadSpec | Mapping[str, Any] | None) -> HeadSpec | None:
    """Validate every argument of ``create()``; return the parsed head spec, if any.

    A head spec that does not parse, a stage index out of range or an unknown option
    fails here, before any tensor is allocated.
    """
    check_kwargs(spec, builder, kwargs)
    if num_classes is not None:
        non_negative_int(num_classes, "num_classes")
    if in_chans is not None and non_negative_int(in_chans, "in_chans") == 0:
        raise ModelArgumentError("in_chans must be at least 1")
    if out_indices is not None and not features_only:
        raise ModelArgumentError("out_indices only applies with features_only=True")
    if features_only:
        select_stages(spec.feature_info, out_indices, spec.name)
    if head is None:
        return None
    if features_only:
        raise ModelArgumentError("head= does not apply with features_only=True")
    head_spec = HeadSpec.coerce(head)
    if num_classes == 0:
        raise ModelArgumentError(f"head={str(head_spec)!r} needs num_classes >= 1")
    return head_spec
