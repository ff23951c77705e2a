"""Pinning weights: the lock file and the portable bundles ``cnnzoo fetch`` writes."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnzoo._utils import atomic_write_text
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
from cnnzoo.build.torchvision_weights import ensure_cached
from cnnzoo.errors import WeightsError
from cnnzoo.spec import REGISTRY, ModelSpec, WeightsSpec

LOCK_ENV = "CNNZOO_LOCK"


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
        atomic_write_text(target, json.dumps(payload, indent=2) + "\n")
        self.path = target
        return target


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
            if wspec.source == "torchvision":
                fetched.append(_fetch_torchvision(spec, tag, wspec, to))
                existing.entries[key] = _torchvision_entry(wspec, fetched[-1])
                continue
            require_safetensors(wspec.filename, key)
            repo_id, revision, files = wspec.repo_id, wspec.revision, [wspec.filename]
        entry: dict[str, Any] = {"repo_id": repo_id, "revision": revision, "files": {}}
        for filename in files:
            path = hub_download(repo_id, filename, revision, cache_dir=to, token=token)
            commit = resolved_commit(path) or revision
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


def _fetch_torchvision(spec: ModelSpec, tag: str, wspec: WeightsSpec,
                       to: str | os.PathLike[str] | None) -> FetchedFile:
    """Download, convert and cache torchvision's weights inside the bundle ``to``."""
    cached = ensure_cached(spec, tag, wspec, cache_dir=to)
    return FetchedFile(f"{spec.name}.{tag}", wspec.repo_id, None, WEIGHTS_NAME, cached.sha256,
                       cached.size, cached.path)


def _torchvision_entry(wspec: WeightsSpec, fetched: FetchedFile) -> dict[str, Any]:
    """The lock entry of torchvision-sourced weights: the entry name and the converted hash."""
    return {"source": "torchvision", "weights": wspec.repo_id,
            "files": {WEIGHTS_NAME: {"sha256": fetched.sha256, "size": fetched.size}}}
