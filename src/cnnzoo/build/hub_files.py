"""Files on the Hugging Face Hub: references, downloads through ``huggingface_hub``, hashes.

Everything cnnzoo downloads goes through :func:`hub_download` (huggingface_hub's cache,
offline mode, endpoint, tokens and progress bars) and is verified with
:func:`verify_sha256` before a single tensor is read.
"""

from __future__ import annotations

import hashlib
import os
from importlib import resources
from pathlib import Path

from cnnzoo.errors import WeightsError

HUB_PREFIX = "hf-hub:"
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "config.json"


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
        return Path(hf_hub_download(repo_id, filename, revision=revision,
                                    cache_dir=None if cache_dir is None else str(cache_dir),
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


def resolved_commit(path: Path) -> str | None:
    """The commit hash of a file in the huggingface_hub cache (``…/snapshots/<sha>/…``)."""
    parts = path.parts
    if "snapshots" in parts:
        index = parts.index("snapshots")
        if index + 1 < len(parts):
            return parts[index + 1]
    return None


def require_safetensors(filename: str, where: str) -> None:
    if not filename.endswith(".safetensors"):
        raise WeightsError(
            f"{where}: {filename!r} is not a safetensors file; cnnzoo only loads safetensors "
            "from the network (pickled checkpoints can execute code)"
        )


def embedded_path(ref: str) -> Path:
    """``"package:relative/dir"`` → the directory inside an installed package."""
    package, _, relative = ref.partition(":")
    root = resources.files(package)
    return Path(str(root.joinpath(relative)))
