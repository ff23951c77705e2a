"""What every deployment verb shares: the model, its config and metadata, onnxruntime, files.

- :func:`resolve_model`: a module, a registered name or a saved model folder → a module;
- :func:`model_config` / :func:`resolve_input_size`: the model's
  :class:`~cnnzoo.config.ModelConfig` (spec defaults filled in) and the input size to use;
- :func:`metadata_for` / :func:`read_metadata`: the preprocessing, labels and identity
  written into an ``.onnx`` / ``.pt2`` file and read back, both through
  :class:`~cnnzoo.config.ModelConfig`;
- :func:`ort_session` / :func:`run_batched`: the one onnxruntime session factory and
  batched inference;
- :func:`staging` / :func:`commit` / :func:`file_size`: model files (with their external
  ``.data`` weights) that appear complete or not at all.

Example:
    >>> from cnnzoo.deploy.runtime import model_config, resolve_input_size, resolve_model
    >>> model = resolve_model("lenet5")
    >>> model_config(model).task, resolve_input_size(model, (64, 64))
    ('classification', (1, 64, 64))
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
import torch
from torch import nn

from cnnzoo._utils import unwrap
from cnnzoo._version import __version__
from cnnzoo.build.factory import create
from cnnzoo.config import ModelConfig
from cnnzoo.errors import CnnzooError, ConfigError, ExportError
from cnnzoo.spec import REGISTRY, ModelSpec

if TYPE_CHECKING:
    import onnxruntime

__all__ = [
    "INPUT_NAME",
    "METADATA_KEY",
    "OUTPUT_NAME",
    "PT2_METADATA_FILE",
    "QUANT_METADATA_KEY",
    "ModelSource",
    "commit",
    "configured_input_size",
    "file_size",
    "metadata_for",
    "model_config",
    "onnx_metadata_props",
    "ort_session",
    "read_metadata",
    "resolve_input_size",
    "resolve_model",
    "run_batched",
    "staging",
]

METADATA_KEY = "cnnzoo"
QUANT_METADATA_KEY = "cnnzoo_quantization"
INPUT_NAME = "input"
OUTPUT_NAME = "logits"
PT2_METADATA_FILE = "cnnzoo.json"

ModelSource: TypeAlias = "nn.Module | str | os.PathLike[str]"
"""What the verbs accept as a model: a module, a registered name or a saved model folder."""


# -- the model -----------------------------------------------------------------------------


def resolve_model(model: ModelSource, *, pretrained: bool | str = False) -> nn.Module:
    """A module as is, or :func:`cnnzoo.create` of a registered name or a saved model folder.

    Args:
        model: an ``nn.Module``, a registered name (``"resnet50"``) or a folder written by
            :func:`cnnzoo.hub.save_pretrained`.
        pretrained: weights for a model given by name (``True``, a tag…).

    Returns:
        the module.

    Raises:
        ExportError: a path that does not exist, a file, or an object of another type.
        UnknownModelError: an unknown name (with a did-you-mean).
    """
    if isinstance(model, nn.Module):
        return model
    if not isinstance(model, str | os.PathLike):
        raise ExportError(f"expected a model, a model name or a folder, got {type(model).__name__}")
    text = os.fspath(model)
    path = Path(text)
    if path.is_dir():
        return create(str(path.resolve()))
    if path.suffix or os.sep in text or text.startswith("."):
        if not path.exists():
            raise ExportError(f"{text!r}: no such file or directory")
        raise ExportError(f"{text!r} is a file; expected a model name or a saved model folder")
    return create(text, pretrained=pretrained)


def _spec(architecture: Any) -> ModelSpec | None:
    if not isinstance(architecture, str) or not architecture:
        return None
    with contextlib.suppress(CnnzooError):
        return REGISTRY.get(architecture)
    return None


def _raw_cfg(model: nn.Module) -> Mapping[str, Any]:
    cfg = getattr(unwrap(model), "pretrained_cfg", None)
    return cfg if isinstance(cfg, Mapping) else {}


def configured_input_size(model: nn.Module) -> tuple[int, int, int] | None:
    """The model's own input size: ``pretrained_cfg["input_size"]``, else its spec's, else
    ``None`` (a module that does not say)."""
    size = _raw_cfg(model).get("input_size")
    if size:
        return tuple(int(v) for v in size)  # type: ignore[return-value]
    spec = _spec(_raw_cfg(model).get("architecture"))
    return spec.input_size if spec is not None else None


def model_config(model: nn.Module) -> ModelConfig:
    """The model's :class:`~cnnzoo.config.ModelConfig`, with its spec's defaults filled in.

    ``model.pretrained_cfg`` may be a ``ModelConfig`` (what :func:`cnnzoo.create`
    attaches) or a plain mapping (any other module). A mapping's missing fields get
    neutral defaults: the spec's input size and task when the architecture is
    registered, mean and std ``0.5``, no crop.

    Raises:
        ConfigError: a ``pretrained_cfg`` whose values contradict each other.
    """
    raw = _raw_cfg(model)
    if isinstance(raw, ModelConfig):
        return raw.copy()
    spec = _spec(raw.get("architecture"))
    size = configured_input_size(model)
    channels = size[0] if size else int(getattr(model, "in_chans", 3))
    labels = raw.get("labels", raw.get("label_names"))
    classes = raw.get("num_classes")
    if classes is None:
        head = getattr(unwrap(model), "num_classes", None)
        classes = len(labels) if labels else head if isinstance(head, int) else 0
    return ModelConfig.from_mapping(
        raw, input_size=size, in_chans=channels, num_classes=classes,
        mean=raw.get("mean") or (0.5,) * channels, std=raw.get("std") or (0.5,) * channels,
        crop_pct=raw.get("crop_pct") or 1.0, task=spec.task if spec else None)


def resolve_input_size(model: nn.Module, input_size: Sequence[int] | None = None
                       ) -> tuple[int, int, int]:
    """The ``(C, H, W)`` to export or run ``model`` at.

    Args:
        model: the model (its ``pretrained_cfg`` or spec gives the default).
        input_size: ``(C, H, W)``, ``(H, W)`` (the model's channels) or ``None`` (the
            model's own input size).

    Raises:
        ExportError: no input size is known, or ``input_size`` is malformed.
    """
    default = configured_input_size(model)
    if input_size is None:
        if default is None:
            raise ExportError("the model has no pretrained_cfg['input_size']; pass "
                              "input_size=(C, H, W)")
        return default
    try:
        size = tuple(int(v) for v in input_size)
    except (TypeError, ValueError):
        size = ()
    if len(size) == 2:
        channels = default[0] if default else int(getattr(model, "in_chans", 3))
        size = (channels, *size)
    if len(size) != 3 or any(v <= 0 for v in size):
        raise ExportError("input_size must be (C, H, W) or (H, W) with positive sizes, got "
                          f"{input_size}")
    return size


# -- metadata ----------------------------------------------------------------------------


def metadata_for(model: nn.Module, input_size: Sequence[int]) -> dict[str, Any]:
    """The JSON-ready preprocessing, labels and identity written into an export.

    :meth:`ModelConfig.to_metadata <cnnzoo.config.ModelConfig.to_metadata>` of
    :func:`model_config`, at the exported ``input_size``, with the graph's input and
    output names and the cnnzoo version.
    """
    return model_config(model).to_metadata(
        input_size=input_size,
        extra={"input_name": INPUT_NAME, "output_name": OUTPUT_NAME,
               "cnnzoo_version": __version__},
    )


def onnx_metadata_props(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``metadata_props`` of an ONNX file (its weights are not loaded).

    Raises:
        ExportError: the file is not an ONNX model.
    """
    import onnx

    try:
        proto = onnx.load(str(path), load_external_data=False)
    except Exception as exc:
        raise ExportError(f"{os.fspath(path)!r} is not an ONNX model: {exc}") from exc
    return {p.key: p.value for p in proto.metadata_props}


def _raw_metadata(path: Path) -> str:
    if path.suffix == ".pt2":
        extra = {PT2_METADATA_FILE: ""}
        try:
            torch.export.load(path, extra_files=extra)
        except Exception as exc:
            raise ExportError(f"{str(path)!r} is not a torch.export program: {exc}") from exc
        return extra[PT2_METADATA_FILE]
    return onnx_metadata_props(path).get(METADATA_KEY, "")


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The cnnzoo metadata (preprocessing, labels, architecture) of an ``.onnx`` or ``.pt2`` file.

    The file's JSON, checked through :meth:`ModelConfig.from_metadata
    <cnnzoo.config.ModelConfig.from_metadata>`: ``input_size``, ``mean``, ``std`` and
    ``labels`` come back as tuples, and files written before ``task`` was recorded
    read as classification. The result is a ``pretrained_cfg``-like dict that
    :func:`cnnzoo.data.eval_transform` accepts.

    Raises:
        ExportError: the file does not exist, or carries no (or malformed) metadata.
    """
    path = Path(path)
    if not path.is_file():
        raise ExportError(f"{str(path)!r}: no such file")
    raw = _raw_metadata(path)
    if not raw:
        raise ExportError(
            f"{str(path)!r} carries no cnnzoo metadata (preprocessing and labels); export it "
            "with cnnzoo.export.to_onnx"
        )
    try:
        meta = json.loads(raw)
        if not isinstance(meta, dict):
            raise ValueError(f"expected a JSON object, got {type(meta).__name__}")
        fields = dict(meta)
        if fields.get("num_classes") is None:  # a module without a known head size
            fields["num_classes"] = len(fields.get("labels") or ())
        cfg = ModelConfig.from_metadata(fields)
    except (ValueError, TypeError, ConfigError) as exc:
        raise ExportError(f"{str(path)!r} carries malformed cnnzoo metadata: {exc}") from exc
    out = dict(meta)
    out["task"] = cfg.task
    for key in ("input_size", "mean", "std", "labels"):
        if meta.get(key) is not None:
            out[key] = cfg[key]
    return out


# -- onnxruntime -----------------------------------------------------------------------------


def ort_session(path: str | os.PathLike[str], threads: int | None = None
                ) -> onnxruntime.InferenceSession:
    """An onnxruntime CPU session with ``threads`` intra-op threads (default: torch's).

    Every verb (export verification, quantization, prediction, benchmarks) opens its
    sessions here, so they all run with the same settings.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, int(threads or torch.get_num_threads()))
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_batched(session: onnxruntime.InferenceSession, x: np.ndarray, batch: int = 64
                ) -> np.ndarray:
    """The first output of ``session`` on ``x``, run ``batch`` samples at a time.

    A model exported with a fixed batch size is run at that size.
    """
    name = session.get_inputs()[0].name
    fixed = session.get_inputs()[0].shape[0]
    if isinstance(fixed, int):
        batch = fixed
    outs = [session.run(None, {name: x[i:i + batch]})[0] for i in range(0, len(x), batch)]
    return np.concatenate(outs)


# -- files -------------------------------------------------------------------------------


def file_size(path: str | os.PathLike[str]) -> int:
    """Bytes of a model file plus its external ``.data`` file, if any."""
    path = Path(path)
    data = path.with_name(path.name + ".data")
    return path.stat().st_size + (data.stat().st_size if data.exists() else 0)


@contextlib.contextmanager
def staging(path: Path) -> Iterator[Path]:
    """A temporary directory beside ``path``; whatever is left in it is removed on exit.

    A model is written there under its final name (so the location of its external
    ``.data`` weights recorded inside it stays right), then moved with :func:`commit`.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def commit(staged: Path, path: Path) -> None:
    """Move a staged file (and its ``.data`` external weights) into place, the model last."""
    data = staged.with_name(staged.name + ".data")
    if data.exists():
        os.replace(data, path.with_name(path.name + ".data"))
    os.replace(staged, path)
