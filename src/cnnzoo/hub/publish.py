"""Saving models in the cnnzoo Hub format and publishing them to the Hugging Face Hub.

The format, one folder (or repository):

- ``config.json``: ``architecture`` (the registry name — for timm-backed families
  also timm's), ``num_classes``, ``in_chans``, ``num_features``, ``label_names``,
  ``model_args`` (builder options), ``pretrained_cfg`` (preprocessing, restricted to
  the fields timm understands), ``head`` and ``cnnzoo_version``;
- ``model.safetensors``: the state dict;
- ``README.md``: a model card with YAML front matter (``library_name: cnnzoo``, tags,
  licence, datasets, metrics, base model) and usage, preprocessing and labels.

``cnnzoo.create("hf-hub:org/repo")`` or ``create("path/to/folder")`` rebuilds the
model from it; for timm-backed families ``timm.create_model("hf-hub:org/repo")``
reads the same repository.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from cnnzoo._utils import unwrap
from cnnzoo._version import __version__
from cnnzoo.build.features import FeatureExtractor
from cnnzoo.build.weights import read_config
from cnnzoo.config import TIMM_FIELDS, ModelConfig
from cnnzoo.errors import HubFormatError
from cnnzoo.spec import REGISTRY

# pretrained_cfg fields timm's PretrainedCfg accepts; anything else stays top-level.
TIMM_CFG_FIELDS = TIMM_FIELDS
EVALUATION_HEADING = "## Evaluation"


class Evaluation(Protocol):
    """Evaluation results for a model card (``evaluation=`` of :func:`save_pretrained`,
    :func:`push_to_hub`, :func:`push_folder`).

    :class:`cnnzoo.deploy.evaluation.EvalReport` is one; the hub layer sits below
    deploy, so it takes any object with these two methods.
    """

    def eval_results(self) -> list[Any]:
        """``huggingface_hub.EvalResult`` objects: the card's ``model-index``."""
        ...

    def summary_markdown(self) -> str:
        """The card's ``## Evaluation`` section (Markdown)."""
        ...


def card_with_evaluation(card_text: str, evaluation: Evaluation, model_name: str) -> str:
    """``card_text`` with ``evaluation``'s results in its YAML (``model-index``, through
    ``huggingface_hub.ModelCardData``) and its summary as the ``## Evaluation`` section
    (replacing an older one); the rest of the card is kept."""
    from huggingface_hub import ModelCard

    card = ModelCard(card_text, ignore_metadata_errors=True)
    data: Any = card.data  # a ModelCardData
    data.eval_results = list(evaluation.eval_results())
    data.model_name = data.model_name or model_name
    text = card.text
    if EVALUATION_HEADING in text:  # drop the old section, up to the next "## " heading
        head, _, tail = text.partition(EVALUATION_HEADING)
        rest = tail.split("\n## ", 1)
        text = head + ("## " + rest[1] if len(rest) > 1 else "")
    card.text = text.rstrip("\n") + "\n\n" + evaluation.summary_markdown().strip() + "\n"
    return str(card.content)


def _unwrap(model: nn.Module) -> nn.Module:
    if isinstance(model, FeatureExtractor):
        raise HubFormatError(
            "a features_only extractor cannot be saved on its own; save the full model "
            "and create it again with features_only=True"
        )
    return unwrap(model)


def _config_of(model: nn.Module) -> ModelConfig:
    """The model's :class:`~cnnzoo.config.ModelConfig`, checked for what saving needs."""
    cfg = getattr(model, "pretrained_cfg", None) or {}
    arch = cfg.get("architecture")
    if not arch or arch not in REGISTRY:
        raise HubFormatError(
            "the model carries no registered architecture in pretrained_cfg['architecture']; "
            "build it with cnnzoo.create() so cnnzoo knows how to rebuild it"
        )
    for key, value in dict(cfg.get("model_args") or {}).items():
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise HubFormatError(
                f"model argument {key}={value!r} cannot be stored in config.json; pass a "
                "name or number instead of an object when creating the model"
            ) from None
    num_classes = int(getattr(model, "num_classes", cfg.get("num_classes", 0)) or 0)
    labels = cfg.get("labels")
    if labels and len(labels) != num_classes:
        raise HubFormatError(
            f"{len(labels)} label names for a classifier with {num_classes} classes"
        )
    config = cfg.copy() if isinstance(cfg, ModelConfig) else ModelConfig.from_mapping(cfg)
    return config.update_fields(architecture=REGISTRY.get(arch).name, num_classes=num_classes)


def model_config(model: nn.Module) -> dict[str, Any]:
    """The ``config.json`` content for a model made by :func:`cnnzoo.create`."""
    model = _unwrap(model)
    return _config_of(model).to_hub_config(
        num_features=int(getattr(model, "num_features", 0) or 0), version=__version__)


def model_card(
    model: nn.Module,
    *,
    repo_id: str | None = None,
    config: Mapping[str, Any] | None = None,
    license: str | None = None,
    datasets: Sequence[str] = (),
    metrics: Mapping[str, float] | None = None,
    base_model: str | None = None,
    tags: Sequence[str] = (),
    evaluation: Evaluation | None = None,
) -> str:
    """A model card: YAML front matter for the Hub, then usage, preprocessing and labels.

    With ``evaluation`` the YAML carries its results as ``model-index`` (the Hub shows
    them) and the card ends with its summary."""
    from huggingface_hub import ModelCardData

    config = dict(config or model_config(model))
    spec = REGISTRY.get(config["architecture"])
    num_params = sum(p.numel() for p in _unwrap(model).parameters())
    pipeline = "image-segmentation" if spec.task == "segmentation" else "image-classification"
    cfg = config["pretrained_cfg"]
    all_tags = ["cnnzoo", pipeline, spec.family, *tags]
    if spec.builder.startswith("cnnzoo.models.timm_backed:"):
        all_tags.append("timm")
    name = repo_id or config["architecture"]
    data = ModelCardData(
        model_name=name if evaluation is not None else None,
        eval_results=list(evaluation.eval_results()) if evaluation is not None else None,
        library_name="cnnzoo",
        tags=list(dict.fromkeys(all_tags)),
        license=license or cfg.get("license") or "apache-2.0",
        datasets=list(datasets) or None,
        metrics=sorted(metrics) if metrics else None,
        base_model=base_model,
        pipeline_tag=pipeline,
    )
    ref = f"hf-hub:{repo_id}" if repo_id else "path/to/this/folder"
    lines = [
        "---", data.to_yaml(), "---", "",
        f"# {name}", "",
        f"A **{spec.name}** ({spec.description or spec.family}) saved with "
        f"[cnnzoo](https://github.com/cnnzoo/cnnzoo) {config['cnnzoo_version']}.", "",
        "## Usage", "", "```python", "import cnnzoo", "",
        f'model = cnnzoo.create("{ref}").eval()', "```", "",
    ]
    if "timm" in all_tags and repo_id:
        lines += ["It loads in timm too:", "", "```python", "import timm", "",
                  f'model = timm.create_model("hf-hub:{repo_id}", pretrained=True)', "```", ""]
    lines += [
        "## Model", "",
        "| | |", "|---|---|",
        f"| architecture | `{spec.name}` |",
        f"| task | {spec.task} |",
        f"| parameters | {num_params:,} |",
        f"| classes | {config['num_classes']} |",
        f"| input channels | {config['in_chans']} |",
    ]
    if spec.paper:
        lines.append(f"| paper | [{spec.paper.title}]({spec.paper.url}) ({spec.paper.year}) |")
    if base_model:
        lines.append(f"| base model | `{base_model}` |")
    lines += ["", "## Preprocessing", "", "| | |", "|---|---|"]
    for key in ("input_size", "mean", "std", "crop_pct", "interpolation"):
        if key in cfg:
            lines.append(f"| {key} | `{cfg[key]}` |")
    if metrics:
        lines += ["", "## Metrics", "", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in sorted(metrics.items())]
    labels = config.get("label_names")
    if labels:
        shown = ", ".join(f"`{label}`" for label in labels[:20])
        more = f", … ({len(labels) - 20} more in config.json)" if len(labels) > 20 else ""
        lines += ["", "## Labels", "", shown + more]
    if evaluation is not None:
        lines += ["", evaluation.summary_markdown().strip()]
    return "\n".join(lines) + "\n"


def save_pretrained(
    model: nn.Module,
    save_directory: str | os.PathLike[str],
    *,
    license: str | None = None,
    datasets: Sequence[str] = (),
    metrics: Mapping[str, float] | None = None,
    base_model: str | None = None,
    tags: Sequence[str] = (),
    repo_id: str | None = None,
    write_model_card: bool = True,
    evaluation: Evaluation | None = None,
) -> Path:
    """Save ``model`` as ``config.json`` + ``model.safetensors`` + ``README.md``.

    Files are written to a temporary folder beside the target and moved into place
    only when all are complete, so an error never leaves a half-written model. An
    existing ``README.md`` is never overwritten — except that ``evaluation`` (an
    :class:`~cnnzoo.deploy.evaluation.EvalReport`, see :class:`Evaluation`) updates its
    ``model-index`` results and ``## Evaluation`` section, keeping the rest.

    Example:
        >>> import cnnzoo, cnnzoo.hub, tempfile
        >>> folder = cnnzoo.hub.save_pretrained(cnnzoo.create("lenet5"), tempfile.mkdtemp())
        >>> sorted(p.name for p in folder.iterdir())
        ['README.md', 'config.json', 'model.safetensors']
    """
    from safetensors.torch import save_file

    target = Path(save_directory)
    config = model_config(model)
    state = {k: v.detach().contiguous().cpu() for k, v in _unwrap(model).state_dict().items()}
    if any(t.is_meta for t in state.values()):
        raise HubFormatError("the model still has tensors on the meta device; load weights first")
    _check_no_shared(state)
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".cnnzoo-save-", dir=target))
    try:
        save_file(state, str(staging / "model.safetensors"),
                  metadata={"format": "pt", "architecture": config["architecture"]})
        (staging / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        readme = target / "README.md"
        if write_model_card and not readme.exists():
            card = model_card(model, repo_id=repo_id, config=config, license=license,
                              datasets=datasets, metrics=metrics, base_model=base_model,
                              tags=tags, evaluation=evaluation)
            (staging / "README.md").write_text(card)
        elif write_model_card and evaluation is not None:
            card = card_with_evaluation(readme.read_text(encoding="utf-8"), evaluation,
                                        repo_id or config["architecture"])
            (staging / "README.md").write_text(card, encoding="utf-8")
        for item in staging.iterdir():
            os.replace(item, target / item.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _check_no_shared(state: Mapping[str, torch.Tensor]) -> None:
    seen: dict[int, str] = {}
    for key, tensor in state.items():
        ptr = tensor.untyped_storage().data_ptr()
        if ptr and ptr in seen and tensor.numel():
            raise HubFormatError(f"{key} shares memory with {seen[ptr]}; safetensors cannot "
                                 "store tied weights — clone one of them first")
        seen[ptr] = key


def _prepare_repo(repo_id: str, *, private: bool, revision: str | None, token: str | None):
    """Create the repository (and branch) if needed; return the API, the full id and
    whether a README is already there (it is never overwritten)."""
    from huggingface_hub import HfApi

    api = HfApi(token=token, library_name="cnnzoo", library_version=__version__)
    repo_id = api.create_repo(repo_id, private=private, exist_ok=True).repo_id
    if revision is not None:
        api.create_branch(repo_id, branch=revision, exist_ok=True)
    return api, repo_id, api.file_exists(repo_id, "README.md", revision=revision)


def push_to_hub(
    model: nn.Module,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    token: str | None = None,
    license: str | None = None,
    datasets: Sequence[str] = (),
    metrics: Mapping[str, float] | None = None,
    base_model: str | None = None,
    tags: Sequence[str] = (),
    evaluation: Evaluation | None = None,
) -> str:
    """Publish ``model`` to the Hub in one commit; returns the commit URL.

    The repository is created if needed. A ``README.md`` already in the repository
    is left as it is, except that ``evaluation`` updates its results (see
    :func:`save_pretrained`). ``revision`` names a branch (created from main if missing).
    """
    api, repo_id, has_readme = _prepare_repo(repo_id, private=private, revision=revision,
                                             token=token)
    with tempfile.TemporaryDirectory(prefix="cnnzoo-push-") as tmp:
        if has_readme and evaluation is not None:
            Path(tmp, "README.md").write_text(_remote_card(api, repo_id, revision),
                                              encoding="utf-8")
        save_pretrained(model, tmp, license=license, datasets=datasets, metrics=metrics,
                        base_model=base_model, tags=tags, repo_id=repo_id,
                        write_model_card=not has_readme or evaluation is not None,
                        evaluation=evaluation)
        spec_name = model_config(model)["architecture"]
        info = api.upload_folder(
            repo_id=repo_id,
            folder_path=tmp,
            revision=revision,
            commit_message=commit_message or f"Upload {spec_name} with cnnzoo {__version__}",
        )
    return str(getattr(info, "commit_url", info))


def _remote_card(api: Any, repo_id: str, revision: str | None) -> str:
    path = api.hf_hub_download(repo_id, "README.md", revision=revision)
    return Path(path).read_text(encoding="utf-8")


def push_folder(folder: str | os.PathLike[str], repo_id: str, *, private: bool = False,
                revision: str | None = None, commit_message: str | None = None,
                token: str | None = None, evaluation: Evaluation | None = None) -> str:
    """Publish a folder written by :func:`save_pretrained` (``cnnzoo push DIR REPO_ID``).

    With ``evaluation`` (``cnnzoo push DIR REPO --evaluation metrics.json``) the model
    card — the repository's, else the folder's — gets its results (see
    :func:`card_with_evaluation`) in the same commit.
    """
    folder = Path(folder)
    for required in ("config.json", "model.safetensors"):
        if not (folder / required).is_file():
            raise HubFormatError(
                f"{str(folder)!r} has no {required}; create the folder with "
                "cnnzoo.hub.save_pretrained or `cnnzoo finetune --out`"
            )
    config = read_config(folder / "config.json")
    api, repo_id, has_readme = _prepare_repo(repo_id, private=private, revision=revision,
                                             token=token)
    if evaluation is not None:
        return _push_with_evaluation(api, folder, repo_id, config, has_readme, evaluation,
                                     revision=revision, commit_message=commit_message)
    ignore = ["README.md"] if has_readme else []
    info = api.upload_folder(
        repo_id=repo_id, folder_path=str(folder), revision=revision,
        commit_message=commit_message or f"Upload {config['architecture']} with cnnzoo",
        allow_patterns=["config.json", "model.safetensors", "README.md"],
        ignore_patterns=ignore or None,
    )
    return str(getattr(info, "commit_url", info))


def _push_with_evaluation(api: Any, folder: Path, repo_id: str, config: Mapping[str, Any],
                          has_readme: bool, evaluation: Evaluation, *, revision: str | None,
                          commit_message: str | None) -> str:
    from huggingface_hub import CommitOperationAdd

    local = folder / "README.md"
    base = (_remote_card(api, repo_id, revision) if has_readme
            else local.read_text(encoding="utf-8") if local.is_file()
            else f"---\nlibrary_name: cnnzoo\n---\n\n# {repo_id}\n")
    card = card_with_evaluation(base, evaluation, repo_id)
    operations = [CommitOperationAdd(path_in_repo=name, path_or_fileobj=str(folder / name))
                  for name in ("config.json", "model.safetensors")]
    operations.append(CommitOperationAdd(path_in_repo="README.md",
                                         path_or_fileobj=card.encode("utf-8")))
    info = api.create_commit(
        repo_id=repo_id, operations=operations, revision=revision,
        commit_message=commit_message or f"Upload {config['architecture']} with cnnzoo "
                                         "and its evaluation")
    return str(getattr(info, "commit_url", info))
