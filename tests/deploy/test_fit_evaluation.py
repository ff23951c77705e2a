"""``EvaluateAtFitEnd``, ``fit(evaluate=...)`` and ``cnnzoo finetune --report DIR``."""

from __future__ import annotations

import json

import pytest
import torch
from torch.utils.data import TensorDataset

import cnnzoo
from cnnzoo.cli import main as cli
from cnnzoo.data import digits
from cnnzoo.deploy import EvaluateAtFitEnd
from cnnzoo.deploy.evaluation import EvalReport
from cnnzoo.errors import EvaluateError, TrainError
from cnnzoo.hub import save_pretrained
from cnnzoo.train import FitState, History, fit

pytestmark = pytest.mark.usefixtures("one_thread")

REPORT_FILES = {"report.html", "report.md", "metrics.json"}


def _small(dataset: TensorDataset, n: int) -> TensorDataset:
    return TensorDataset(*(t[:n] for t in dataset.tensors))


@pytest.fixture(scope="module")
def split():
    split = digits((1, 32, 32), seed=0)
    return _small(split.train, 300), _small(split.test, 120)


def test_fit_with_the_callback_reports_the_best_checkpoint(split, tmp_path):
    train, val = split
    model = cnnzoo.create("lenet5", pretrained=True)
    callback = EvaluateAtFitEnd(tmp_path / "report", progress=False, num_mistakes=3)
    history = fit(model, train, val, epochs=1, lr=1e-4, seed=0, batch_size=64,
                  checkpoint_dir=tmp_path / "best", callbacks=[callback], progress=False)
    report = history.evaluation
    assert isinstance(report, EvalReport) and report is callback.report
    assert report.num_samples == len(val)
    assert report.accuracy == pytest.approx(cnnzoo.evaluate(model, val, progress=False).accuracy)
    assert report.accuracy == pytest.approx(history.best, abs=1e-6)  # same as fit's val
    assert "validation" in report.dataset
    assert any("best checkpoint" in note and "epoch 1" in note for note in report.notes)
    assert {p.name for p in (tmp_path / "report").iterdir()} >= REPORT_FILES
    saved = json.loads((tmp_path / "report" / "metrics.json").read_text())
    assert saved["num_samples"] == len(val)


def test_the_best_weights_not_the_last_are_evaluated(split, tmp_path):
    _, val = split
    pretrained = cnnzoo.create("lenet5", pretrained=True)
    save_pretrained(pretrained, tmp_path / "best")
    last = cnnzoo.create("lenet5")  # random weights: what fit would leave after a bad epoch
    before = {k: v.clone() for k, v in last.state_dict().items()}
    history = History(best_checkpoint=tmp_path / "best", best_epoch=1, best=1.0)
    state = FitState(model=last, optimizer=torch.optim.SGD(last.parameters(), lr=0.1),
                     epochs=2, history=history, val_data=val)
    callback = EvaluateAtFitEnd(progress=False)
    callback.on_fit_start(state)
    callback.on_fit_end(state)
    expected = cnnzoo.evaluate(pretrained, val, progress=False).accuracy
    assert history.evaluation.accuracy == pytest.approx(expected)
    assert all(torch.equal(v, before[k]) for k, v in last.state_dict().items())  # untouched


def test_fit_evaluate_option(split, tmp_path):
    train, val = split
    model = cnnzoo.create("lenet5", pretrained=True)
    with pytest.raises(TrainError, match=r"callbacks=\[cnnzoo.deploy.EvaluateAtFitEnd\(\)\]"):
        fit(model, train, val, epochs=1, evaluate=True)
    with pytest.raises(TrainError, match="evaluate= takes a callback"):
        fit(model, train, val, epochs=1, evaluate="yes")  # type: ignore[arg-type]
    history = fit(model, _small(train, 64), val, epochs=1, lr=1e-4, seed=0, progress=False,
                  evaluate=EvaluateAtFitEnd(progress=False))
    assert history.evaluation.accuracy == pytest.approx(history.last["val_accuracy"], abs=1e-6)
    assert any("final weights" in note for note in history.evaluation.notes)
    assert fit(model, _small(train, 64), epochs=1, evaluate=False).evaluation is None


def test_bad_uses_fail_before_training(split, tmp_path):
    train, val = split
    model = cnnzoo.create("lenet5")
    with pytest.raises(TrainError, match="unknown option"):
        EvaluateAtFitEnd(top_kk=(1,))
    with pytest.raises(TrainError, match="report_dir"):
        EvaluateAtFitEnd(report=tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(EvaluateError, match="is a file"):
        fit(model, train, val, epochs=1, callbacks=[EvaluateAtFitEnd(tmp_path / "file")])
    with pytest.raises(TrainError, match="validation data"):
        fit(model, train, epochs=1, callbacks=[EvaluateAtFitEnd()])


def _write_digit_folder(root, classes=(0, 1, 2), per_class=10):
    from PIL import Image
    from sklearn.datasets import load_digits

    data = load_digits()
    for c in classes:
        (root / f"digit{c}").mkdir(parents=True, exist_ok=True)
        picks = [i for i, t in enumerate(data.target) if t == c][:per_class]
        for j, i in enumerate(picks):
            pixels = (data.images[i] * 255 / 16).astype("uint8")
            Image.fromarray(pixels).resize((32, 32)).save(root / f"digit{c}" / f"{j}.png")
    return root


def test_finetune_cli_writes_the_report(tmp_path, capsys):
    root = _write_digit_folder(tmp_path / "imgs")
    out, report = tmp_path / "out", tmp_path / "report"
    code = cli(["finetune", "lenet5", "--data", str(root), "--epochs", "1", "--lr", "3e-3",
                "--out", str(out), "--report", str(report)])
    text = capsys.readouterr().out
    assert code == 0, text
    assert {p.name for p in report.iterdir()} >= REPORT_FILES
    assert f"wrote {report / 'report.html'}" in text
    assert "evaluation" in text and "accuracy" in text  # the summary table
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["num_samples"] == 6  # 20% of 30 images
    assert tuple(metrics["labels"]) == ("digit0", "digit1", "digit2")
