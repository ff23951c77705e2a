"""Resolve a ``pretrained=`` value to verified weights on local disk, then read them.

Sources, in the order :func:`resolve_pretrained` recognises them:

- ``True`` or a tag (``"tv_in1k"``): the spec's :class:`~cnnzoo.registry.WeightsSpec`,
  embedded in an installed package or downloaded from the Hugging Face Hub;
- ``"hf-hub:org/repo[@revision]"``: a repository in the cnnzoo (or timm) Hub format;
- a local directory in that format (``config.json`` + ``model.safetensors``);
- a local file (``.safetensors``, or a weights-only ``.pth``).

Everything from the network goes through ``huggingface_hub`` (its cache, offline mode,
endpoint, tokens and progress bars) and is a safetensors file: nothing downloaded is
ever unpickled. Known sha256 checksums — from the spec or from a lock file — are
verified before a single tensor is read.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from cnnzoo._utils import did_you_mean
from cnnzoo.build.checkpoint import read_state_dict
from cnnzoo.build.hub_files import (
    CONFIG_NAME,
    HUB_PREFIX,
    WEIGHTS_NAME,
    embedded_path,
    hub_download,
    require_safetensors,
    resolved_commit,
    sha256_file,
    split_hub_id,
    verify_sha256,
)
from cnnzoo.build.lock import LOCK_ENV, FetchedFile, Lock, fetch
from cnnzoo.build.torchvision_weights import ensure_cached
from cnnzoo.config import ModelConfig
from cnnzoo.errors import CheckpointError, WeightsError
from cnnzoo.spec import REGISTRY, ModelSpec, WeightsSpec

__all__ = [
    "CONFIG_NAME",
    "HUB_PREFIX",
    "LOCK_ENV",
    "WEIGHTS_NAME",
    "FetchedFile",
    "Lock",
    "ResolvedWeights",
    "cfg_from_weights_spec",
    "config_architecture",
    "embedded_path",
    "fetch",
    "hub_download",
    "is_hub_or_folder",
    "labels_for",
    "read_config",
    "resolve_pretrained",
    "sha256_file",
    "split_hub_id",
    "verify_sha256",
]


@dataclass
class ResolvedWeights:
    """Weights ready to load, with the preprocessing and labels that belong to them."""

    state_dict: dict[str, torch.Tensor]
    pretrained_cfg: dict[str, Any]
    source: str
    architecture: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


# -- configs -------------------------------------------------------------------------


def read_config(path: Path) -> dict[str, Any]:
    """Read and validate a Hub-format ``config.json`` (cnnzoo's or timm's)."""
    try:
        config = json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise WeightsError(f"{str(path)!r} does not exist") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise WeightsError(
            f"{str(path)!r} is not valid JSON ({exc}); re-download it or re-create it with "
            "cnnzoo.hub.save_pretrained"
        ) from exc
    if not isinstance(config, dict):
        raise WeightsError(f"{str(path)!r} must hold a JSON object, not {type(config).__name__}")
    arch = config.get("architecture")
    if not isinstance(arch, str) or not arch:
        raise WeightsError(
            f"{str(path)!r} has no 'architecture' field naming the model it belongs to"
        )
    for key in ("num_classes", "in_chans"):
        value = config.get(key)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < 0):
            raise WeightsError(f"{str(path)!r}: {key!r} must be a non-negative int, got {value!r}")
    if not isinstance(config.get("pretrained_cfg", {}), dict):
        raise WeightsError(f"{str(path)!r}: 'pretrained_cfg' must be a JSON object")
    return config


def config_architecture(config: Mapping[str, Any], where: str) -> ModelSpec:
    """The registered spec a config's ``architecture`` names, or a clear error."""
    arch = str(config["architecture"])
    if arch not in REGISTRY:


        raise WeightsError(
            f"{where} is for architecture {arch!r}, which no installed package registers"
            + did_you_mean(arch, REGISTRY.list())
            + "; install the plugin that provides it"
        )
    return REGISTRY.get(arch)


def labels_for(spec: WeightsSpec) -> tuple[str, ...] | None:
    """Label names of a weights entry (``"imagenet-1k"`` expands to the 1,000 classes)."""
    if spec.labels is None or isinstance(spec.labels, tuple):
        return spec.labels
    if spec.labels == "imagenet-1k":
        from timm.data import ImageNetInfo

        return tuple(ImageNetInfo().label_descriptions(detailed=False))
    raise WeightsError(f"unknown label set {spec.labels!r} for {spec.repo_id}")


def cfg_from_weights_spec(tag: str, spec: WeightsSpec) -> dict[str, Any]:
    return {
        "tag": tag,
        "mean": spec.mean,
        "std": spec.std,
        "input_size": spec.input_size,
        "crop_pct": spec.crop_pct,
        "interpolation": spec.interpolation,
        "num_classes": spec.num_classes,
        "labels": labels_for(spec),
        "license": spec.license,
    }


# -- resolution ----------------------------------------------------------------------


def resolve_pretrained(
    spec: ModelSpec | None,
    pretrained: bool | str | os.PathLike[str],
    *,
    lock: Lock | str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    token: str | bool | None = None,
) -> ResolvedWeights:
    """Turn a ``pretrained=`` value into loaded, verified tensors and their config.

    Args:
        spec: the model's spec (``None`` when the source's config names the model).
        pretrained: ``True``, a tag, ``"hf-hub:org/repo[@rev]"``, a directory or a file.
        lock: a :class:`Lock` or its path; defaults to ``$CNNZOO_LOCK``.
        cache_dir: the huggingface_hub cache to use (default: ``HF_HUB_CACHE``).
        token: a Hub token (default: huggingface_hub's own lookup).
    """
    if lock is not None and not isinstance(lock, Lock):
        lock = Lock.read(lock)
    if lock is None:
        lock = Lock.from_env()
    if isinstance(pretrained, os.PathLike) or (
        isinstance(pretrained, str)
        and not pretrained.startswith(HUB_PREFIX)
        and (os.sep in pretrained or Path(pretrained).exists())
    ):
        return _from_local(spec, Path(pretrained))
    if isinstance(pretrained, str) and pretrained.startswith(HUB_PREFIX):
        return _from_hub_repo(pretrained, lock=lock, cache_dir=cache_dir, token=token)
    if spec is None:
        raise WeightsError(f"cannot resolve pretrained={pretrained!r} without a model name")
    if pretrained is True:
        tag, wspec = spec.resolve_tag(None)
    elif isinstance(pretrained, str):
        tag, wspec = spec.resolve_tag(pretrained)
    else:
        raise WeightsError(
            f"pretrained={pretrained!r} is not understood; pass True, a tag "
            f"({', '.join(spec.weights) or 'none registered'}), 'hf-hub:org/repo', or a path"
        )
    return _from_tag(spec, tag, wspec, lock=lock, cache_dir=cache_dir, token=token)


def _from_tag(spec: ModelSpec, tag: str, wspec: WeightsSpec, *, lock: Lock | None,
              cache_dir: str | os.PathLike[str] | None, token: str | bool | None
              ) -> ResolvedWeights:
    key = f"{spec.name}.{tag}"
    cfg = cfg_from_weights_spec(tag, wspec)
    if wspec.embedded:
        path = embedded_path(wspec.embedded) / wspec.filename
        locked = ((lock.entries.get(key) or {}).get("files", {}).get(wspec.filename) or {}
                  ) if lock else {}
        verify_sha256(path, locked.get("sha256") or wspec.sha256,
                      what=f"the embedded weights {key}", hint="reinstall cnnzoo")
        return ResolvedWeights(read_state_dict(path), cfg, f"embedded:{key}", spec.name,
                               path=path)
    entry = (lock.entries.get(key) if lock else None) or {}
    if lock is not None and not entry:
        raise WeightsError(
            f"{key} is not in the lock file {lock.path}; add it with "
            f"`cnnzoo fetch {key} --lock {lock.path}`"
        )
    if wspec.source == "torchvision":
        return _from_torchvision(spec, tag, wspec, cfg, entry, cache_dir=cache_dir)
    require_safetensors(wspec.filename, key)
    revision = entry.get("revision") or wspec.revision
    expected = (entry.get("files", {}).get(wspec.filename, {}) or {}).get("sha256") or wspec.sha256
    path = hub_download(wspec.repo_id, wspec.filename, revision, cache_dir=cache_dir,
                        token=token, fetch_hint=f"cnnzoo fetch {key} --to DIR --lock cnnzoo.lock")
    verify_sha256(path, expected, what=f"{key} ({wspec.repo_id}/{wspec.filename})",
                  hint=f"delete it from the cache and run `cnnzoo fetch {key}` again")
    commit = resolved_commit(path) or revision
    return ResolvedWeights(read_state_dict(path), cfg,
                           f"hf-hub:{wspec.repo_id}@{commit}" if commit else wspec.repo_id,
                           spec.name, path=path)


def _from_torchvision(spec: ModelSpec, tag: str, wspec: WeightsSpec, cfg: dict[str, Any],
                      entry: Mapping[str, Any], *, cache_dir: str | os.PathLike[str] | None
                      ) -> ResolvedWeights:
    """torchvision's weights, converted once and cached as safetensors."""
    expected = ((entry.get("files") or {}).get(WEIGHTS_NAME) or {}).get("sha256")
    cached = ensure_cached(spec, tag, wspec, cache_dir=cache_dir, expected_sha256=expected)
    return ResolvedWeights(read_state_dict(cached.path), cfg, f"torchvision:{wspec.repo_id}",
                           spec.name, model_args=dict(cached.model_args), path=cached.path)


def _from_hub_repo(value: str, *, lock: Lock | None, cache_dir: str | os.PathLike[str] | None,
                   token: str | bool | None) -> ResolvedWeights:
    repo_id, revision = split_hub_id(value)
    key = f"{HUB_PREFIX}{repo_id}"
    entry = (lock.entries.get(key) if lock else None) or {}
    if lock is not None and not entry:
        raise WeightsError(f"{key} is not in the lock file {lock.path}; add it with "
                           f"`cnnzoo fetch {key} --lock {lock.path}`")
    revision = entry.get("revision") or revision
    hint = f"cnnzoo fetch {key} --to DIR --lock cnnzoo.lock"
    config_path = hub_download(repo_id, CONFIG_NAME, revision, cache_dir=cache_dir,
                               token=token, fetch_hint=hint)
    files = entry.get("files", {})
    verify_sha256(config_path, (files.get(CONFIG_NAME) or {}).get("sha256"),
                  what=f"{CONFIG_NAME} of {repo_id}", hint=f"run `{hint}` again")
    config = read_config(config_path)
    revision = revision or resolved_commit(config_path)  # weights from the config's commit
    weights_path = hub_download(repo_id, WEIGHTS_NAME, revision, cache_dir=cache_dir,
                                token=token, fetch_hint=hint)
    verify_sha256(weights_path, (files.get(WEIGHTS_NAME) or {}).get("sha256"),
                  what=f"{WEIGHTS_NAME} of {repo_id}", hint=f"run `{hint}` again")
    return _from_config(config, weights_path, f"{HUB_PREFIX}{repo_id}@{revision}")


def _from_config(config: dict[str, Any], weights_path: Path, source: str) -> ResolvedWeights:
    spec = config_architecture(config, source)
    cfg = ModelConfig.hub_fields(config)
    cfg["source"] = source
    model_args = cfg.pop("model_args", {})
    cfg.pop("architecture", None)
    return ResolvedWeights(read_state_dict(weights_path), cfg, source, spec.name, model_args,
                           path=weights_path)


def _from_local(spec: ModelSpec | None, path: Path) -> ResolvedWeights:
    if path.is_dir():
        config_path, weights_path = path / CONFIG_NAME, path / WEIGHTS_NAME
        if not config_path.is_file() or not weights_path.is_file():
            present = ", ".join(sorted(p.name for p in path.iterdir())[:10]) or "nothing"
            raise WeightsError(
                f"{str(path)!r} is not a cnnzoo model folder: it needs {CONFIG_NAME} and "
                f"{WEIGHTS_NAME} (it holds {present}); create one with cnnzoo.hub.save_pretrained"
            )
        return _from_config(read_config(config_path), weights_path, str(path))
    if not path.exists():
        raise WeightsError(f"pretrained={str(path)!r}: no such file or directory")
    if spec is None:
        raise WeightsError(f"{str(path)!r} is a bare weights file; name the model to load it into")
    try:
        state = read_state_dict(path)
    except CheckpointError as exc:
        raise WeightsError(str(exc)) from exc
    return ResolvedWeights(state, {"source": str(path)}, str(path), spec.name, path=path)


def is_hub_or_folder(name: str) -> bool:
    """Whether ``create(name)`` names a Hub repo or a local model folder, not a registry name."""
    return name.startswith(HUB_PREFIX) or (
        (os.sep in name or name.startswith(".")) and Path(name).is_dir()
    )
