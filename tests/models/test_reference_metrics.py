"""The accuracies of timm-hosted weights are timm's own published figures.

Reference nobody here wrote: ``results-imagenet.csv`` of huggingface/pytorch-image-models,
kept beside the repository in ``../shared/reference/`` (see the README there). For each
registered tag hosted by timm (``repo_id`` ``timm/<arch>.<tag>``) the row of that model at
the tag's default input size gives its top-1 and top-5; a tag with no such row has none.
"""

from __future__ import annotations

import csv

import pytest

import cnnzoo
from tests.helpers import ROOT

RESULTS = ROOT.parent / "shared" / "reference" / "timm-results-imagenet.csv"
TOP1, TOP5 = "imagenet-1k/top1", "imagenet-1k/top5"


def timm_hosted() -> list[tuple[str, str]]:
    """``(model, tag)`` of every registered weights entry hosted by timm on the Hub."""
    found = []
    for name in cnnzoo.list_models():
        for tag, weights in cnnzoo.model_info(name).weights.items():
            if weights.source == "hf-hub" and weights.repo_id.startswith("timm/"):
                found.append((name, tag))
    return found


@pytest.fixture(scope="module")
def results() -> dict[tuple[str, int], tuple[float, float]]:
    if not RESULTS.is_file():
        pytest.skip(f"timm's reference results are not at {RESULTS} (CI provides "
                    "../shared/reference/timm-results-imagenet.csv)")
    with RESULTS.open(newline="") as fh:
        return {(row["model"], int(row["img_size"])): (float(row["top1"]), float(row["top5"]))
                for row in csv.DictReader(fh)}


def _row(results, name: str, tag: str) -> tuple[str, tuple[float, float] | None]:
    weights = cnnzoo.model_info(name).weights[tag]
    model = weights.repo_id.removeprefix("timm/")
    return model, results.get((model, weights.input_size[-1]))


@pytest.mark.parametrize(("name", "tag"), timm_hosted(), ids="{0[0]}.{0[1]}".format)
def test_metrics_are_timms_published_results(results, name, tag):
    weights = cnnzoo.model_info(name).weights[tag]
    model, row = _row(results, name, tag)
    if row is None:
        assert TOP1 not in weights.metrics and TOP5 not in weights.metrics, (
            f"{model} has no row at {weights.input_size[-1]} px in the reference; its "
            "metrics must not be invented")
    else:
        assert weights.metrics[TOP1] == row[0]
        assert weights.metrics[TOP5] == row[1]


def test_input_size_is_the_tags_default_in_timm():
    """The size the metrics are looked up at is the one timm's own config gives the tag."""
    from timm.models import get_pretrained_cfg

    for name, tag in timm_hosted():
        weights = cnnzoo.model_info(name).weights[tag]
        cfg = get_pretrained_cfg(weights.repo_id.removeprefix("timm/"))
        assert cfg is not None and tuple(cfg.input_size) == weights.input_size, (name, tag)


def test_most_tags_have_a_reference_row(results):
    with_row = [key for key in timm_hosted() if _row(results, *key)[1] is not None]
    assert len(with_row) >= 100
    # every ImageNet-1k classifier of the zoo is in timm's results
    classifiers = [(n, t) for n, t in timm_hosted()
                   if cnnzoo.model_info(n).weights[t].num_classes == 1000]
    assert set(classifiers) <= set(with_row)
