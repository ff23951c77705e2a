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

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from cnnzoo._utils import did_you_mean
from cnnzoo.build.checkpoint import read_state_dict
from cnnzoo.errors import CheckpointError, WeightsError
from cnnzoo.spec import REGISTRY, ModelSpec, WeightsSpec

HUB_PREFIX = "hf-hub:"
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"
LOCK_ENV = "CNNZOO_LOCK"


@dataclass
class ResolvedWeights:
    """Weights ready to load, with the preprocessing and labels that belong to them."""

    state_dict: dict[str, torch.Tensor]
    pretrained_cfg: dict[str, Any]
    source: str
    architecture: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    path: Path | None = None


# -- hashing and the lock ------------------------------------------------------------


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_sha256(path: Path, expected: str | None, *, what: str, hint: str) -> None:
    """Raise :class:`WeightsError` when ``path`` does not hash to ``expected``."""
    if not expected:
        return
    actual = sha256_file(path)
    if actual != expected.lower():
        raise WeightsError(
            f"sha256 mismatch for {what} ({path}): expected {expected}, got {actual}. "
            f"The file is corrupt or not the one pinned; {hint}"
        )


@dataclass
class Lock:
    """Pinned revisions and hashes of weights, read from and written to a JSON lock file.

    Each entry is keyed ``"<model>.<tag>"`` (or ``"hf-hub:org/repo"``) and holds
    ``repo_id``, ``revision`` (a commit hash), and per file its ``sha256``.
    """

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    path: Path | None = None

    VERSION = 1

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Lock:
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise WeightsError(
                f"lock file {str(path)!r} does not exist; create it with "
                "`cnnzoo fetch NAME.TAG --to DIR --lock " + str(path) + "`"
            ) from None
        except json.JSONDecodeError as exc:
            raise WeightsError(f"lock file {str(path)!r} is not valid JSON: {exc}") from exc
        if not isinstance(data, dict) or data.get("version") != cls.VERSION:
            raise WeightsError(
                f"lock file {str(path)!r} is not a cnnzoo lock (version {cls.VERSION})"
            )
        return cls(entries=dict(data.get("weights", {})), path=path)

    @classmethod
    def from_env(cls) -> Lock | None:
        """The lock named by ``$CNNZOO_LOCK``, if set."""
        value = os.environ.get(LOCK_ENV)
        return cls.read(value) if value else None

    def write(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write atomically (a temporary file renamed over the target)."""
        target = Path(path or self.path or "cnnzoo.lock")
        payload = {"version": self.VERSION, "weights": dict(sorted(self.entries.items()))}
        _atomic_write_text(target, json.dumps(payload, indent=2) + "\n")
        self.path = target
        return target


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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


def cfg_from_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """cnnzoo's ``pretrained_cfg`` from a Hub-format config (timm's layout is accepted)."""
    pcfg = dict(config.get("pretrained_cfg") or {})
    labels = config.get("label_names", pcfg.get("label_names", pcfg.get("labels")))
    if isinstance(labels, dict):  # timm allows {index: name}
        labels = [labels[k] for k in sorted(labels, key=int)]
    out = {
        "mean": tuple(pcfg["mean"]) if "mean" in pcfg else None,
        "std": tuple(pcfg["std"]) if "std" in pcfg else None,
        "input_size": tuple(pcfg["input_size"]) if "input_size" in pcfg else None,
        "crop_pct": pcfg.get("crop_pct"),
        "interpolation": pcfg.get("interpolation"),
        "num_classes": config.get("num_classes", pcfg.get("num_classes")),
        "labels": tuple(labels) if labels else None,
        "tag": pcfg.get("tag"),
        "head": config.get("head"),
        "license": pcfg.get("license"),
    }
    return out


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


# -- the Hub -------------------------------------------------------------------------


def split_hub_id(value: str) -> tuple[str, str | None]:
    """``"hf-hub:org/repo@rev"`` → ``("org/repo", "rev")``."""
    ref = value[len(HUB_PREFIX):] if value.startswith(HUB_PREFIX) else value
    repo_id, _, revision = ref.partition("@")
    if repo_id.count("/") != 1 or not all(repo_id.split("/")):
        raise WeightsError(
            f"{value!r} is not a Hub reference; expected 'hf-hub:org/repo' or "
            "'hf-hub:org/repo@revision'"
        )
    return repo_id, revision or None


def hub_download(repo_id: str, filename: str, revision: str | None, *,
                 cache_dir: str | os.PathLike[str] | None = None,
                 token: str | bool | None = None, fetch_hint: str = "") -> Path:
    """Download (or find in the cache) one file with ``huggingface_hub``.

    Raises :class:`WeightsError` naming the file — and, offline, the ``cnnzoo fetch``
    command that would put it in the cache.
    """
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{filename} of {repo_id}" + (f"@{revision}" if revision else "")
    try:
        return Path(hf_hub_download(repo_id, filename, revision=revision, cache_dir=cache_dir,
                                    token=token))
    except LocalEntryNotFoundError as exc:
        raise WeightsError(
            f"{where} is not in the Hugging Face cache and the Hub cannot be reached "
            f"(offline mode or no network). Fetch it where there is network"
            + (f" with `{fetch_hint}`" if fetch_hint else "")
            + ", then copy the bundle and point HF_HUB_CACHE at it"
        ) from exc
    except RepositoryNotFoundError as exc:
        raise WeightsError(f"repository {repo_id!r} does not exist on the Hub "
                           "(or is private: log in or pass a token)") from exc
    except RevisionNotFoundError as exc:
        raise WeightsError(f"revision {revision!r} does not exist in {repo_id!r}") from exc
    except EntryNotFoundError as exc:
        raise WeightsError(f"{repo_id!r} has no file {filename!r}") from exc
    except HfHubHTTPError as exc:
        raise WeightsError(f"downloading {where} failed: {exc}") from exc
    except (OSError, ValueError, RuntimeError) as exc:
        raise WeightsError(f"downloading {where} failed: {exc}") from exc
    except Exception as exc:  # the HTTP client's transport errors (connection cut, timeouts)
        raise WeightsError(
            f"downloading {where} was interrupted ({type(exc).__name__}: {exc}); nothing "
            "partial was kept in the cache — run the same command again"
        ) from exc


def _resolved_commit(path: Path) -> str | None:
    """The commit hash of a file in the huggingface_hub cache (``…/snapshots/<sha>/…``)."""
    parts = path.parts
    if "snapshots" in parts:
        index = parts.index("snapshots")
        if index + 1 < len(parts):
            return parts[index + 1]
    return None


def _require_safetensors(filename: str, where: str) -> None:
    if not filename.endswith(".safetensors"):
        raise WeightsError(
            f"{where}: {filename!r} is not a safetensors file; cnnzoo only loads safetensors "
            "from the network (pickled checkpoints can execute code)"
        )


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
    _require_safetensors(wspec.filename, key)
    entry = (lock.entries.get(key) if lock else None) or {}
    if lock is not None and not entry:
        raise WeightsError(
            f"{key} is not in the lock file {lock.path}; add it with "
            f"`cnnzoo fetch {key} --lock {lock.path}`"
        )
    revision = entry.get("revision") or wspec.revision
    expected = (entry.get("files", {}).get(wspec.filename, {}) or {}).get("sha256") or wspec.sha256
    path = hub_download(wspec.repo_id, wspec.filename, revision, cache_dir=cache_dir,
                        token=token, fetch_hint=f"cnnzoo fetch {key} --to DIR --lock cnnzoo.lock")
    verify_sha256(path, expected, what=f"{key} ({wspec.repo_id}/{wspec.filename})",
                  hint=f"delete it from the cache and run `cnnzoo fetch {key}` again")
    commit = _resolved_commit(path) or revision
    return ResolvedWeights(read_state_dict(path), cfg,
                           f"hf-hub:{wspec.repo_id}@{commit}" if commit else wspec.repo_id,
                           spec.name, path=path)


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
    revision = revision or _resolved_commit(config_path)  # weights from the config's commit
    weights_path = hub_download(repo_id, WEIGHTS_NAME, revision, cache_dir=cache_dir,
                                token=token, fetch_hint=hint)
    verify_sha256(weights_path, (files.get(WEIGHTS_NAME) or {}).get("sha256"),
                  what=f"{WEIGHTS_NAME} of {repo_id}", hint=f"run `{hint}` again")
    return _from_config(config, weights_path, f"{HUB_PREFIX}{repo_id}@{revision}")


def _from_config(config: dict[str, Any], weights_path: Path, source: str) -> ResolvedWeights:
    spec = config_architecture(config, source)
    cfg = cfg_from_config(config)
    cfg["source"] = source
    model_args = dict(config.get("model_args") or {})
    if config.get("in_chans") is None and isinstance(model_args.get("in_chans"), int):
        config = {**config, "in_chans": model_args["in_chans"]}  # timm keeps it here
    for handled in ("in_chans", "num_classes", "pretrained", "features_only"):
        model_args.pop(handled, None)  # create() sets these itself
    if config.get("in_chans") is not None:
        cfg["in_chans"] = config["in_chans"]
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


def embedded_path(ref: str) -> Path:
    """``"package:relative/dir"`` → the directory inside an installed package."""
    package, _, relative = ref.partition(":")
    root = resources.files(package)
    return Path(str(root.joinpath(relative)))


def is_hub_or_folder(name: str) -> bool:
    """Whether ``create(name)`` names a Hub repo or a local model folder, not a registry name."""
    return name.startswith(HUB_PREFIX) or (
        (os.sep in name or name.startswith(".")) and Path(name).is_dir()
    )


# -- fetch: a portable bundle and its lock ----------------------------------------------


@dataclass
class FetchedFile:
    """One file put into a bundle by :func:`fetch`."""

    key: str
    repo_id: str
    revision: str | None
    filename: str
    sha256: str
    size: int
    path: Path


def fetch(
    refs: list[str],
    *,
    to: str | os.PathLike[str] | None = None,
    lock: str | os.PathLike[str] | None = None,
    token: str | bool | None = None,
) -> list[FetchedFile]:
    """Download weights into a portable cache folder and pin them in a lock file.

    Args:
        refs: ``"name"`` (default tag), ``"name.tag"`` or ``"hf-hub:org/repo[@rev]"``.
        to: the bundle: a huggingface_hub cache folder (default: ``HF_HUB_CACHE``).
            Copy it anywhere and point ``HF_HUB_CACHE`` at it.
        lock: the lock file to create or update with resolved commits and sha256.
        token: a Hub token.

    Returns:
        what was fetched, with commits, hashes and sizes.
    """
    existing = Lock.read(lock) if lock is not None and Path(lock).exists() else Lock()
    fetched: list[FetchedFile] = []
    for ref in refs:
        if ref.startswith(HUB_PREFIX):
            repo_id, revision = split_hub_id(ref)
            key, files = f"{HUB_PREFIX}{repo_id}", [CONFIG_NAME, WEIGHTS_NAME]
        else:
            spec = REGISTRY.get(ref)
            tag, wspec = spec.resolve_tag(ref.partition(".")[2] or None)
            key = f"{spec.name}.{tag}"
            if wspec.embedded:
                path = embedded_path(wspec.embedded) / wspec.filename
                verify_sha256(path, wspec.sha256, what=key, hint="reinstall cnnzoo")
                fetched.append(FetchedFile(key, wspec.repo_id, None, wspec.filename,
                                           sha256_file(path), path.stat().st_size, path))
                existing.entries[key] = {"embedded": wspec.embedded, "files": {
                    wspec.filename: {"sha256": fetched[-1].sha256, "size": fetched[-1].size}}}
                continue
            _require_safetensors(wspec.filename, key)
            repo_id, revision, files = wspec.repo_id, wspec.revision, [wspec.filename]
        entry: dict[str, Any] = {"repo_id": repo_id, "revision": revision, "files": {}}
        for filename in files:
            path = hub_download(repo_id, filename, revision, cache_dir=to, token=token)
            commit = _resolved_commit(path) or revision
            revision = commit  # every later file of this entry comes from the same commit
            digest = sha256_file(path)
            if not ref.startswith(HUB_PREFIX):
                verify_sha256(path, REGISTRY.get(ref).resolve_tag(
                    ref.partition(".")[2] or None)[1].sha256, what=key,
                    hint="the registered hash and the Hub disagree; report it")
            entry["revision"] = commit
            entry["files"][filename] = {"sha256": digest, "size": path.stat().st_size}
            fetched.append(FetchedFile(key, repo_id, commit, filename, digest,
                                       path.stat().st_size, path))
        existing.entries[key] = entry
    if lock is not None:
        existing.write(lock)
    return fetched
