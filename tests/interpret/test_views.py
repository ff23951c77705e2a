"""cnnzoo.interpret.views: the matplotlib figures."""

from __future__ import annotations

import sys

import pytest

import cnnzoo
from cnnzoo.errors import ExplainError
from tests.interpret.helpers import lenet

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")


def test_views_draw_figures(tmp_path):
    pytest.importorskip("matplotlib")
    from cnnzoo.data import digits
    from cnnzoo.interpret import views

    model = lenet()
    split = digits(model=model)
    x, y = split.test.tensors
    res = cnnzoo.explain(model, x[:4])
    figs = {
        "overlays": views.plot_overlays(res, x[:4], labels=model.pretrained_cfg["labels"],
                                        mean=(0.5,), std=(0.5,)),
        "compare": views.compare_methods(model, x[:2], ["gradcam", "saliency", "occlusion"],
                                         options={"occlusion": {"window": 8}}),
        "features": views.plot_feature_maps(model, x[0], ["stem", "stage1"], max_channels=6),
        "filters": views.plot_filters(model),
        "pca": views.plot_embeddings(model, (x[:120], y[:120]), method="pca"),
    }
    for name, fig in figs.items():
        fig.savefig(tmp_path / f"{name}.png", dpi=40)
        assert (tmp_path / f"{name}.png").stat().st_size > 0
    assert len(figs["compare"].axes) == 2 * 4
    feats, labels = views.embeddings(model, split.test, batch_size=100)
    assert feats.shape == (360, 84) and labels.shape == (360,)
    model.train()
    views.embeddings(model, x[:10])
    assert model.training
    with pytest.raises(ExplainError, match="unknown projection"):
        views.project(feats, "umap")


def test_views_without_matplotlib_say_how_to_get_it(monkeypatch):
    from cnnzoo.interpret import views

    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ExplainError, match=r"pip install 'cnnzoo\[viz\]'"):
        views.plot_filters(lenet())

