"""Reading state dicts from disk safely, and matching them to a model.

Safetensors files are read with ``safetensors``; PyTorch ``.pth``/``.pt``/``.bin``
files only with ``torch.load(weights_only=True)``: nothing is ever unpickled
beyond tensors and plain containers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from cnnzoo.errors import CheckpointError
from cnnzoo.spec import ModelSpec, import_object

SAFETENSORS_SUFFIXES = (".safetensors",)
PICKLE_SUFFIXES = (".pth", ".pt", ".bin", ".ckpt")
# Keys under which training scripts commonly nest the weights.
NESTED_KEYS = ("state_dict", "model", "model_state_dict", "module")


def read_state_dict(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """Read a state dict from a ``.safetensors`` file or a weights-only ``.pth``.

    Nested checkpoints (``{"state_dict": …}``, ``{"model": …}``) are unwrapped and a
    ``module.`` prefix left by DataParallel/DDP is stripped.

    Raises:
        CheckpointError: the file is missing, of an unknown kind, or not weights-only.
    """
    path = Path(path)
    if not path.is_file():
        hint = " (it is a directory; pass the weights file inside it)" if path.is_dir() else ""
        raise CheckpointError(f"checkpoint {str(path)!r} does not exist{hint}")
    suffix = path.suffix.lower()
    if suffix in SAFETENSORS_SUFFIXES:
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state = load_file(str(path), device="cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(f"{str(path)!r} is not a valid safetensors file: {exc}") from exc
    elif suffix in PICKLE_SUFFIXES:
        try:
            state = torch.load(str(path), map_location="cpu", weights_only=True)
        except Exception as exc:  # pickle errors come in many types
            raise CheckpointError(
                f"{str(path)!r} could not be loaded with torch.load(weights_only=True): {exc}. "
                "cnnzoo never unpickles arbitrary objects; re-save the checkpoint with "
                "torch.save(model.state_dict(), path) or as safetensors"
            ) from exc
    else:
        raise CheckpointError(
            f"{str(path)!r}: unknown checkpoint kind {suffix or '(no suffix)'!r}; expected "
            f"one of {', '.join(SAFETENSORS_SUFFIXES + PICKLE_SUFFIXES)}"
        )
    return _unwrap(state, path)


def _unwrap(state: Any, path: Path) -> dict[str, torch.Tensor]:
    while isinstance(state, Mapping) and not _is_tensor_dict(state):
        nested = next((k for k in NESTED_KEYS if isinstance(state.get(k), Mapping)), None)
        if nested is None:
            raise CheckpointError(
                f"{str(path)!r} holds a dict whose values are not all tensors (keys: "
                f"{', '.join(map(str, list(state)[:8]))}); expected a state dict"
            )
        state = state[nested]
    if not isinstance(state, Mapping):
        raise CheckpointError(f"{str(path)!r} holds a {type(state).__name__}, not a state dict")
    state = dict(state)
    if state and all(k.startswith("module.") for k in state):
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _is_tensor_dict(state: Mapping[Any, Any]) -> bool:
    return bool(state) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    )


def describe_mismatch(missing: list[str], unexpected: list[str], limit: int = 12) -> str:
    """A readable listing of missing and unexpected keys."""

    def fmt(keys: list[str]) -> str:
        shown = ", ".join(keys[:limit])
        return shown + (f", … ({len(keys) - limit} more)" if len(keys) > limit else "")

    parts = []
    if missing:
        parts.append(f"missing keys ({len(missing)}): {fmt(missing)}")
    if unexpected:
        parts.append(f"unexpected keys ({len(unexpected)}): {fmt(unexpected)}")
    return "; ".join(parts)


def classifier_keys(model: nn.Module) -> list[str]:
    """State-dict keys of the model's classifier (empty when it has none)."""
    get = getattr(model, "get_classifier", None)
    if get is None:
        return []
    head = get()
    if head is None or isinstance(head, nn.Identity):
        return []
    for name, module in model.named_modules():
        if module is head:
            return [f"{name}.{k}" if name else k for k in head.state_dict()]
    return []


def first_conv_key(model_state: Mapping[str, torch.Tensor], checkpoint: Mapping[str, torch.Tensor]
                   ) -> str | None:
    """The input conv's weight key when model and checkpoint disagree only on in_chans."""
    for key, tensor in model_state.items():
        other = checkpoint.get(key)
        if (
            other is not None
            and tensor.ndim == 4
            and other.ndim == 4
            and tensor.shape[0] == other.shape[0]
            and tensor.shape[2:] == other.shape[2:]
            and tensor.shape[1] != other.shape[1]
        ):
            return key
    return None


def adapt_input_conv(weight: torch.Tensor, in_chans: int) -> torch.Tensor:
    """Adapt a first-conv weight to ``in_chans`` input channels (timm's rule).

    1 channel: the sum over the checkpoint's channels (a grayscale image feeds all
    three). N channels: the checkpoint's channels repeated cyclically, rescaled by
    ``base / N`` so activations keep their magnitude.
    """
    from timm.models import adapt_input_conv as timm_adapt

    return timm_adapt(in_chans, weight, base_chans=weight.shape[1])


def convert_layout(
    spec: ModelSpec,
    state: dict[str, torch.Tensor],
    model_keys: set[str],
) -> tuple[dict[str, torch.Tensor], str, dict[str, Any]]:
    """Bring ``state`` into the model's own layout.

    Returns ``(state, format, build_kwargs)``: the format is ``"cnnzoo"`` when the
    keys already fit, else the first of the spec's ``checkpoint_converters`` whose
    conversion yields the model's keys; ``build_kwargs`` are what that layout
    needs from the builder (e.g. a BatchNorm epsilon).
    """
    if _fits(set(state), model_keys):
        return state, "cnnzoo", {}
    tried = []
    for fmt, target in spec.checkpoint_converters.items():
        converter: Callable[[dict[str, torch.Tensor]], dict[str, torch.Tensor]] = (
            import_object(target)
        )
        try:
            converted = converter(dict(state))
        except (ValueError, KeyError) as exc:
            tried.append(f"{fmt} ({exc})")
            continue
        if _fits(set(converted), model_keys):
            return converted, fmt, dict(getattr(converter, "build_kwargs", {}) or {})
        tried.append(f"{fmt} (converted keys do not fit)")
    missing = sorted(model_keys - set(state))
    unexpected = sorted(set(state) - model_keys)
    formats = ", ".join(["cnnzoo", *spec.checkpoint_converters])
    raise CheckpointError(
        f"the checkpoint does not fit {spec.name!r} in any layout it knows ({formats}): "
        + describe_mismatch(missing, unexpected)
        + closest_keys(missing, unexpected)
        + (f". Conversions tried: {'; '.join(tried)}" if tried else "")
    )


def closest_keys(missing: list[str], unexpected: list[str], limit: int = 3) -> str:
    """``". Closest: a ↔ b, …"`` pairing missing model keys with the nearest checkpoint keys."""
    import difflib

    pairs = []
    for key in missing[:50]:
        match = difflib.get_close_matches(key, unexpected, n=1, cutoff=0.6)
        if match:
            pairs.append(f"model {key!r} ~ checkpoint {match[0]!r}")
        if len(pairs) == limit:
            break
    return f". Closest mismatching keys: {'; '.join(pairs)}" if pairs else ""


def _fits(keys: set[str], model_keys: set[str]) -> bool:
    """Keys fit when every model key is present; extras are only tolerated for BN counters."""
    extra = keys - model_keys
    return model_keys <= keys and all(k.endswith("num_batches_tracked") for k in extra)
