"""The bench builds its INT8 backends through ``cnnzoo.quantize``'s accuracy gate and
fallback ladder (``1 - min_agreement``, on held-out data), names an accepted fallback in
the row, and — where no configuration passes — times the first one and lets verification
report it as failed, never dropping the row."""

from __future__ import annotations

from typing import Any

import pytest

from cnnzoo.deploy import bench
from cnnzoo.deploy.quantization import quantize
from cnnzoo.errors import AccuracyDropError

pytestmark = pytest.mark.usefixtures("one_thread")


def _spy(monkeypatch, refuse_gated: bool = False) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []

    def spying(source: Any, **options: Any) -> Any:
        calls.append(options)
        if refuse_gated and options.get("max_accuracy_drop") is not None:
            raise AccuracyDropError("every attempt lost too much", report=None)
        return quantize(source, **options)

    monkeypatch.setattr(bench, "quantize", spying)
    return calls


def test_int8_goes_through_the_gate_on_held_out_digits(monkeypatch) -> None:
    calls = _spy(monkeypatch)
    result = bench.run("lenet5", pretrained=True, backends=("eager", "int8"), batch_sizes=(1,),
                       warmup=0, repeats=2, min_agreement=0.97)
    assert len(calls) == 1  # the gated call wrote the file: no second quantization
    assert calls[0]["max_accuracy_drop"] == pytest.approx(0.03)
    assert calls[0]["eval_data"] == "digits" and calls[0]["calibration"] == "digits"
    row = result.row("int8", 1)
    assert row.ok and row.verified and row.detail is None  # the first configuration passed


def test_when_nothing_passes_the_first_configuration_is_timed_and_said(monkeypatch) -> None:
    calls = _spy(monkeypatch, refuse_gated=True)
    result = bench.run("lenet5", pretrained=True, backends=("eager", "int8"), batch_sizes=(1,),
                       warmup=0, repeats=2)
    assert [c.get("max_accuracy_drop") for c in calls] == [pytest.approx(0.05), None]
    row = result.row("int8", 1)
    assert row.median_ms is not None and row.error is None
    assert "no configuration of the fallback ladder stayed within 5 points" in row.detail
    assert "no configuration" in result.table()


def test_without_verification_there_is_no_gate(monkeypatch) -> None:
    calls = _spy(monkeypatch)
    bench.run("lenet5", pretrained=True, backends=("eager", "int8"), batch_sizes=(1,),
              warmup=0, repeats=1, verify=False)
    assert [c.get("max_accuracy_drop") for c in calls] == [None]
