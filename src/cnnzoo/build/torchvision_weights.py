"""torchvision's own weights registry as a source of pretrained weights.

Some weights exist only in torchvision (AlexNet, GoogLeNet, SqueezeNet, ShuffleNetV2,
EfficientNet-B6/B7…). A tag whose :class:`~cnnzoo.spec.WeightsSpec` has
``source="torchvision"`` names a torchvision weights entry
(``repo_id="SqueezeNet1_0_Weights.IMAGENET1K_V1"``). The first load:

1. downloads the checkpoint through torchvision's loader
   (:func:`torch.hub.load_state_dict_from_url`, exactly what
   ``WeightsEnum.get_state_dict`` calls), which checks torchvision's published hash
   prefix and reads the file with ``weights_only=True``;
2. converts it once to the model's layout with the spec's converter for the
   ``"torchvision"`` format (if the layouts differ);
3. stores it in cnnzoo's cache as ``model.safetensors`` beside a ``source.json`` that
   records the converted file's sha256, its size, the URL and the builder options the
   layout needs.

Every later load memory-maps that safetensors file: nothing is unpickled twice. A hash
mismatch, an interrupted download or a failed conversion leaves nothing in the cache.

The cache lives in ``<HF_HUB_CACHE>/cnnzoo-torchvision/<model>.<tag>/`` (or
``$CNNZOO_TORCHVISION_CACHE``), so a bundle made with ``cnnzoo fetch --to DIR`` carries
these weights too and ``HF_HUB_CACHE=DIR HF_HUB_OFFLINE=1`` loads them with no request.
``$CNNZOO_TORCHVISION_BASE_URL`` replaces torchvision's download base
(``https://download.pytorch.org/models/``), for a mirror or a test server.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from cnnzoo.build.hub_files import WEIGHTS_NAME, sha256_file, verify_sha256
from cnnzoo.errors import WeightsError
from cnnzoo.spec import ModelSpec, WeightsSpec, import_object

CACHE_ENV = "CNNZOO_TORCHVISION_CACHE"
BASE_URL_ENV = "CNNZOO_TORCHVISION_BASE_URL"
TORCHVISION_BASE_URL = "https://download.pytorch.org/models/"
SOURCE_NAME = "source.json"

__all__ = [
    "BASE_URL_ENV",
    "CACHE_ENV",
    "CachedTorchvisionWeights",
    "cache_root",
    "cached_weights",
    "download_url",
    "ensure_cached",
    "torchvision_entry",
]


@dataclass(frozen=True)
class CachedTorchvisionWeights:
    """Converted torchvision weights in cnnzoo's cache."""

    path: Path
    sha256: str
    size: int
    url: str
    model_args: dict[str, Any]


def cache_root(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where converted torchvision weights live (inside the Hugging Face cache by default)."""
    if cache_dir is not None:
        return Path(cache_dir) / "cnnzoo-torchvision"
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE) / "cnnzoo-torchvision"


def torchvision_entry(weights: WeightsSpec) -> Any:
    """The torchvision ``WeightsEnum`` member a spec names (``"Enum.MEMBER"``)."""
    from torchvision.models import get_weight

    try:
        return get_weight(weights.repo_id)
    except (ValueError, KeyError) as exc:
        raise WeightsError(
            f"torchvision has no weights entry {weights.repo_id!r} (torchvision "
            f"{_torchvision_version()}); expected '<WeightsEnum>.<member>' such as "
            "'ResNet50_Weights.IMAGENET1K_V1'"
        ) from exc


def download_url(url: str) -> str:
    """``url`` with torchvision's download base replaced by ``$CNNZOO_TORCHVISION_BASE_URL``."""
    base = os.environ.get(BASE_URL_ENV)
    if base and url.startswith(TORCHVISION_BASE_URL):
        return base.rstrip("/") + "/" + url[len(TORCHVISION_BASE_URL):]
    return url


def cached_weights(key: str, *, cache_dir: str | os.PathLike[str] | None = None
                   ) -> CachedTorchvisionWeights | None:
    """The cache entry for ``"<model>.<tag>"``, or ``None`` when it is not cached."""
    return _read_entry(cache_root(cache_dir) / key)


def _read_entry(folder: Path) -> CachedTorchvisionWeights | None:
    record_path, weights_path = folder / SOURCE_NAME, folder / WEIGHTS_NAME
    if not record_path.is_file() or not weights_path.is_file():
        return None
    try:
        record = json.loads(record_path.read_text())
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{record_path} is corrupt ({exc}); delete {folder} and load "
                           "again to re-download") from exc
    if weights_path.stat().st_size != record.get("size"):
        raise WeightsError(f"{weights_path} has {weights_path.stat().st_size} bytes, but "
                           f"{record.get('size')} were recorded; delete {folder} and load "
                           "again to re-download")
    return CachedTorchvisionWeights(weights_path, str(record["sha256"]), int(record["size"]),
                                    str(record.get("url", "")),
                                    dict(record.get("model_args") or {}))


def ensure_cached(spec: ModelSpec, tag: str, weights: WeightsSpec, *,
                  cache_dir: str | os.PathLike[str] | None = None,
                  expected_sha256: str | None = None,
                  progress: bool = True) -> CachedTorchvisionWeights:
    """The cached, converted weights of ``spec.tag`` — downloading and converting once.

    Args:
        spec: the model the weights belong to (its converter for ``"torchvision"``
            brings them into the model's layout).
        tag: the weights tag.
        weights: the tag's spec (``source="torchvision"``).
        cache_dir: a bundle / Hugging Face cache folder (default: ``HF_HUB_CACHE``).
        expected_sha256: the converted file's sha256 from a lock, verified on every load.
        progress: show torchvision's download progress bar.

    Raises:
        WeightsError: offline with nothing cached, a download or hash failure, or a
            checkpoint that does not convert. Nothing is left in the cache then.
    """
    key = f"{spec.name}.{tag}"
    cached = cached_weights(key, cache_dir=cache_dir)
    if cached is None:
        _refuse_offline(key)
        cached = _download_and_convert(spec, key, weights, cache_dir=cache_dir,
                                       progress=progress)
    if expected_sha256:
        verify_sha256(cached.path, expected_sha256, what=f"the converted weights {key}",
                      hint=f"delete {cached.path.parent} and run `cnnzoo fetch {key}` again")
    return cached


def _refuse_offline(key: str) -> None:
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE or os.environ.get("HF_HUB_OFFLINE", "").lower() in (
            "1", "true", "yes", "on"):
        raise WeightsError(
            f"{key} (torchvision's weights) is not in the cache and offline mode is on. "
            f"Fetch it where there is network with `cnnzoo fetch {key} --to DIR --lock "
            "cnnzoo.lock`, then copy the bundle and point HF_HUB_CACHE at it"
        )


def _download_and_convert(spec: ModelSpec, key: str, weights: WeightsSpec, *,
                          cache_dir: str | os.PathLike[str] | None,
                          progress: bool) -> CachedTorchvisionWeights:
    """Download through torchvision's loader, convert, and move into the cache atomically."""
    entry = torchvision_entry(weights)
    url = download_url(entry.url)
    root = cache_root(cache_dir)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
    try:
        state = _load_checkpoint(url, key, staging / "download", progress=progress)
        state, model_args = _convert(spec, state, key)
        return _store(state, staging, root / key, url=url, model_args=model_args)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _load_checkpoint(url: str, key: str, model_dir: Path, *, progress: bool
                     ) -> dict[str, torch.Tensor]:
    """torchvision's loader: hash-prefix check, then ``torch.load(weights_only=True)``."""
    try:
        state = torch.hub.load_state_dict_from_url(
            url, model_dir=str(model_dir), map_location="cpu", progress=progress,
            check_hash=True, weights_only=True)
    except RuntimeError as exc:
        if "hash" in str(exc).lower():
            raise WeightsError(
                f"{key}: the file at {url} does not match torchvision's published hash "
                f"prefix ({exc}); nothing was cached. A proxy or mirror served other bytes"
            ) from exc
        raise WeightsError(f"{key}: reading {url} failed: {exc}") from exc
    except Exception as exc:  # urllib's URLError/HTTPError, timeouts, pickle refusals
        raise WeightsError(
            f"{key}: downloading {url} failed ({type(exc).__name__}: {exc}); nothing was "
            f"cached. Set ${BASE_URL_ENV} to use a mirror"
        ) from exc
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in state.values()):
        raise WeightsError(f"{key}: {url} does not hold a state dict of tensors")
    return state


def _convert(spec: ModelSpec, state: dict[str, torch.Tensor], key: str
             ) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The state dict in the model's layout and the builder options that layout needs."""
    target = spec.checkpoint_converters.get("torchvision")
    if target is None:
        return state, {}
    converter = import_object(target)
    try:
        converted = converter(dict(state))
    except (KeyError, ValueError) as exc:
        raise WeightsError(f"{key}: torchvision's checkpoint does not convert to "
                           f"{spec.name!r}'s layout: {exc}") from exc
    return converted, dict(getattr(converter, "build_kwargs", {}) or {})


def _store(state: dict[str, torch.Tensor], staging: Path, folder: Path, *, url: str,
           model_args: dict[str, Any]) -> CachedTorchvisionWeights:
    """Write safetensors + ``source.json`` in ``staging``, then rename it to ``folder``."""
    from safetensors.torch import save_file

    out = staging / "entry"
    out.mkdir()
    tensors = {k: v.detach().contiguous() for k, v in state.items()}
    save_file(tensors, str(out / WEIGHTS_NAME), metadata={"format": "pt", "source": url})
    digest, size = sha256_file(out / WEIGHTS_NAME), (out / WEIGHTS_NAME).stat().st_size
    record = {"url": url, "sha256": digest, "size": size, "model_args": model_args,
              "torchvision": _torchvision_version()}
    (out / SOURCE_NAME).write_text(json.dumps(record, indent=2) + "\n")
    try:
        os.replace(out, folder)
    except OSError:  # another process cached it first: keep theirs
        theirs = _read_entry(folder)
        if theirs is None:
            raise
        return theirs
    return CachedTorchvisionWeights(folder / WEIGHTS_NAME, digest, size, url, model_args)


def _torchvision_version() -> str:
    import torchvision

    return str(torchvision.__version__)
