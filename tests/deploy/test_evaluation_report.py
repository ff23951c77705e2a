"""The files of an evaluation and where they go: ``report.html`` (self-contained, opened in
headless Chromium), ``report.md``, ``metrics.json``, written atomically; the results in a
model card's ``model-index`` (read back by huggingface_hub, pushed to the local Hub)."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

import cnnzoo
from cnnzoo.cli import main
from cnnzoo.deploy import evaluation_report
from cnnzoo.deploy.evaluation import EvalReport, evaluate
from cnnzoo.hub import push_to_hub, save_pretrained
from tests.deploy.test_evaluation import LENET_DIGITS_ACCURACY, Artefacts, artefacts
from tests.docs.test_site_browser import _broken_images, _console_errors, _open, _serve, browser

__all__ = ["browser"]  # the headless Chromium fixture of the docs' browser test

# one intra-op thread: see the one_thread fixture in conftest.py
pytestmark = pytest.mark.usefixtures("one_thread")

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def art() -> Artefacts:
    return artefacts()


@pytest.fixture(scope="module")
def compared(art: Artefacts) -> EvalReport:
    """INT8 against FP32 on the digits test split, with latencies."""
    return evaluate(art.model, "digits", compare=[art.onnx, art.int8], progress=False,
                    latency_repeats=4)


@pytest.fixture(scope="module")
def report_dir(compared: EvalReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return compared.save(tmp_path_factory.mktemp("report") / "lenet5")


def _data_uris(text: str) -> list[bytes]:
    return [base64.b64decode(m) for m in re.findall(r'src="data:image/png;base64,([^"]+)"',
                                                      text)]


def test_report_files(report_dir: Path, compared: EvalReport) -> None:
    names = {p.name for p in report_dir.iterdir()}
    assert {"report.html", "report.md", "metrics.json"} <= names
    pictures = {"confusion.png", "reliability.png", "f1.png", "mistakes.png", "comparison.png"}
    assert pictures <= names
    assert json.loads((report_dir / "metrics.json").read_text()) == compared.to_dict()

    page = (report_dir / "report.html").read_text(encoding="utf-8")
    images = _data_uris(page)
    assert len(images) == len(pictures) and all(i.startswith(PNG_MAGIC) for i in images)
    # self-contained: nothing is fetched (no http(s) link, no external src or stylesheet)
    assert not re.search(r"https?://", page)
    assert not re.search(r'(src|href)="(?!data:)', page)
    assert "<script" not in page
    for text in ("99.17%", "lenet5.int8.onnx", "15 equal-width bins", "agreement",
                 "Most confident mistakes"):
        assert text in page

    markdown = (report_dir / "report.md").read_text(encoding="utf-8")
    linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", markdown)
    assert set(linked) == pictures and all((report_dir / p).is_file() for p in linked)
    assert "| top-1 | 99.17% |" in markdown


def test_onnx_report_says_why_there_is_no_gradcam(art: Artefacts, tmp_path: Path) -> None:
    report = evaluate(art.int8, "digits", progress=False)
    folder = report.save(tmp_path / "int8")
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "Grad-CAM overlays need an eager PyTorch model" in page
    assert (folder / "mistakes.png").is_file()  # the images, without overlays
    assert "comparison.png" not in {p.name for p in folder.iterdir()}


def test_an_error_leaves_no_half_written_report(compared: EvalReport, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> str:
        raise RuntimeError("rendering failed")

    # pictures, metrics.json and report.md are written before report.html fails
    monkeypatch.setattr(evaluation_report, "figures", lambda report: {"a.png": PNG_MAGIC})
    monkeypatch.setattr(evaluation_report, "render_html", broken)
    with pytest.raises(RuntimeError, match="rendering failed"):
        compared.save(tmp_path / "new")
    assert list(tmp_path.iterdir()) == []  # no folder, no staging left behind

    monkeypatch.undo()
    monkeypatch.setattr(evaluation_report, "figures", lambda report: {"a.png": PNG_MAGIC})
    old = compared.save(tmp_path / "old")
    before = {p.name: p.read_bytes() for p in old.iterdir()}
    assert set(before) == {"a.png", "report.html", "report.md", "metrics.json"}
    monkeypatch.setattr(evaluation_report, "render_html", broken)
    with pytest.raises(RuntimeError):
        compared.save(old)
    assert {p.name: p.read_bytes() for p in old.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["old"]


def test_cli_report(art: Artefacts, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli-report"
    assert main(["evaluate", "lenet5", "--compare", str(art.int8), "--report", str(out),
                 "--latency-batches", "1,8"]) == 0
    text = capsys.readouterr().out
    assert "wrote" in text and "report.html" in text and "ms @ b8" in text
    data = json.loads((out / "metrics.json").read_text())
    assert [r["backend"] for r in data["comparison"]] == ["eager", "onnx-int8-static"]


# -- the model card and the Hub -------------------------------------------------------------


def _card_metrics(text: str) -> dict[str, float]:
    from huggingface_hub import ModelCard

    results = ModelCard(text).data.eval_results
    assert results, "the card carries no eval results"
    assert {r.task_type for r in results} == {"image-classification"}
    assert {r.dataset_type for r in results} == {"digits"}
    assert {r.dataset_split for r in results} == {"test"}
    return {r.metric_type: r.metric_value for r in results}


def test_model_card_round_trips_the_results(art: Artefacts, compared: EvalReport,
                                            tmp_path: Path) -> None:
    from huggingface_hub import ModelCard

    folder = save_pretrained(art.model, tmp_path / "lenet", evaluation=compared)
    card = ModelCard.load(folder / "README.md")
    results = card.data.eval_results
    written = {r.metric_type: r.metric_value for r in compared.eval_results()}
    assert {r.metric_type: r.metric_value for r in results} == written
    assert written["accuracy"] == pytest.approx(LENET_DIGITS_ACCURACY, abs=1e-6)
    assert {"accuracy", "top_5_accuracy", "f1", "ece", "nll", "brier"} <= set(written)
    assert card.data.model_name == "lenet5" and card.data.library_name == "cnnzoo"
    assert "## Evaluation" in card.text and "lenet5.int8.onnx" in card.text
    assert card.data.to_dict()["model-index"] == compared.to_model_index("lenet5")

    # a second evaluation replaces the first: same keys, one Evaluation section
    single = evaluate(art.model, "digits", progress=False)
    save_pretrained(art.model, folder, evaluation=single)
    text = (folder / "README.md").read_text()
    assert text.count("## Evaluation") == 1 and "lenet5.int8.onnx" not in text
    assert "## Preprocessing" in text  # the rest of the card is kept
    assert _card_metrics(text)["accuracy"] == pytest.approx(LENET_DIGITS_ACCURACY, abs=1e-6)


def test_push_cli_with_evaluation_reaches_the_hub(art: Artefacts, report_dir: Path, hub: Any,
                                                  tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    folder = save_pretrained(art.model, tmp_path / "lenet")
    assert main(["push", str(folder), "user/lenet-evaluated", "--evaluation",
                 str(report_dir / "metrics.json")]) == 0
    assert "pushed" in capsys.readouterr().out
    files = hub.repo_files("user/lenet-evaluated")
    readme = files["README.md"].decode()
    metrics = _card_metrics(readme)
    assert metrics["accuracy"] == pytest.approx(LENET_DIGITS_ACCURACY, abs=1e-6)
    assert "## Evaluation" in readme and "## Usage" in readme

    from huggingface_hub import ModelCard

    assert ModelCard.load("user/lenet-evaluated").data.eval_results  # the Hub client reads it
    loaded = cnnzoo.create("hf-hub:user/lenet-evaluated")
    assert evaluate(loaded, "digits", progress=False).accuracy == pytest.approx(
        LENET_DIGITS_ACCURACY)

    assert main(["push", str(folder), "user/x", "--evaluation", str(tmp_path / "no.json")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_push_to_hub_updates_an_existing_card(art: Artefacts, compared: EvalReport,
                                              hub: Any) -> None:
    hub.add_repo("user/mine", {"README.md": b"# my own card\n\nHand-written.\n"})
    push_to_hub(art.model, "user/mine", evaluation=compared)
    readme = hub.repo_files("user/mine")["README.md"].decode()
    assert "# my own card" in readme and "Hand-written." in readme  # kept
    assert _card_metrics(readme)["accuracy"] == pytest.approx(LENET_DIGITS_ACCURACY, abs=1e-6)
    push_to_hub(art.model, "user/fresh", evaluation=compared)
    fresh = hub.repo_files("user/fresh")["README.md"].decode()
    assert "library_name: cnnzoo" in fresh and "model-index" in fresh


# -- the browser -------------------------------------------------------------------------------


def test_report_opens_in_headless_chromium(report_dir: Path, browser: Any) -> None:
    with _serve(report_dir) as url:
        _open(browser, url + "report.html")
        assert browser.title == "Evaluation of lenet5.digits"
        assert _console_errors(browser) == []
        assert _broken_images(browser) == []
        count = browser.execute_script(
            "return Array.from(document.images).filter(i => i.naturalWidth > 0).length")
        assert count == len(_data_uris((report_dir / "report.html").read_text()))
        requests = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")
        assert [r for r in requests if not r.startswith("data:")] == []
    _open(browser, (report_dir / "report.html").as_uri())  # offline, from the file itself
    assert _console_errors(browser) == [] and _broken_images(browser) == []
