"""The deployment speed goals, measured by ``bench/deploy_speed.py`` on the machine it runs on.

ResNet-50 at batch 1 with 2 threads, every backend built, verified against eager fp32 and
timed interleaved in one process: OpenVINO INT8 at most 0.08x eager fp32 and 0.5x
onnxruntime INT8, OpenVINO bf16 at most 0.15x eager fp32, onnxruntime FP32 and INT8 at
most 0.55x and 0.20x. The OpenVINO goals are what AMX (``amx_int8``, ``amx_bf16``) makes
possible: on a CPU without it the test is skipped, and ``docs/guides/deploy.md`` shows
what such a CPU measures instead. Timing needs a quiet machine, so the test is in the
exhaustive tier (``python scripts/run_exhaustive.py -k deploy_goals --update``), never
beside other workers.
"""

from __future__ import annotations

import importlib.util
import sys

import pytest

from cnnzoo.deploy.precision import cpu_flags
from tests.helpers import ROOT

pytestmark = [
    pytest.mark.exhaustive,
    pytest.mark.skipif(not {"amx_int8", "amx_bf16"} <= cpu_flags(),
                       reason="the OpenVINO goals assume AMX: this CPU reports no amx_int8/"
                              "amx_bf16 (docs/guides/deploy.md gives its numbers)"),
    pytest.mark.skipif(importlib.util.find_spec("openvino") is None,
                       reason='needs the OpenVINO extra: pip install "cnnzoo[openvino]"'),
]


def _deploy_speed():
    spec = importlib.util.spec_from_file_location("deploy_speed",
                                                  ROOT / "bench" / "deploy_speed.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["deploy_speed"] = module
    spec.loader.exec_module(module)
    return module


def test_resnet50_meets_every_deployment_goal_on_amx() -> None:
    bench = _deploy_speed()
    data = bench.measure(["resnet50"], threads=2, batch=1, rounds=5, repeats=30,
                         num_calibration=32)
    model = data["models"]["resnet50"]
    rows = {r["backend"]: r for r in model["rows"]}
    for backend in ("onnx", "openvino"):  # fp32: within the export tolerance of eager
        assert rows[backend]["verified"], rows[backend]
    # bf16 and INT8 were checked by top-1 agreement too, but on random weights (no ResNet-50
    # weights offline) a top-1 within a few near-equal logits is a weak test that flips by
    # a crop or two: it is shown, not required. Their top-1 on real weights is held to 95 %
    # in tests/deploy/test_openvino.py (Lite0's photos, LeNet-5's digits).
    for backend in ("openvino-int8", "openvino-bf16", "int8"):
        assert rows[backend]["error"] is None and rows[backend]["check"], rows[backend]
    missed = {k: v for k, v in model["ratios"].items()
              if k in model["goals"] and (v is None or v > model["goals"][k])}
    assert not missed, f"{missed} (goals {model['goals']}):\n{bench.render(data)}"
