"""The capability matrix: committed data covering every model, and live checks per family.

``scripts/capability_matrix.py`` runs every verb on every model and writes
``docs/assets/capabilities.json`` (shown in the gallery). Here: every registered model has
a row with every check recorded, and one representative per family (its smallest model)
passes forward, ``features_only`` and ``explain`` in this very run. ONNX parity per family
is checked in tests/deploy; the exhaustive tier and the script cover every model.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

import cnnzoo
from tests.helpers import ROOT

DATA = ROOT / "docs" / "assets" / "capabilities.json"


def _matrix():
    spec = importlib.util.spec_from_file_location("capability_matrix",
                                                  ROOT / "scripts" / "capability_matrix.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_registered_model_has_a_row_with_every_check():
    data = json.loads(DATA.read_text())
    rows = {row["model"]: row for row in data["models"]}
    missing = sorted(set(cnnzoo.list_models()) - set(rows))
    assert not missing, f"run scripts/capability_matrix.py --models {','.join(missing)}"
    for name in cnnzoo.list_models():
        for check in data["checks"]:
            cell = rows[name][check]
            assert isinstance(cell["ok"], bool) and isinstance(cell["detail"], str), (name, check)


def _representatives() -> list[str]:
    smallest: dict[str, tuple[int, str]] = {}
    for name in cnnzoo.list_models():
        spec = cnnzoo.model_info(name)
        key = (spec.num_params or 0, name)
        if spec.family not in smallest or key < smallest[spec.family]:
            smallest[spec.family] = key
    return sorted(name for _, name in smallest.values())


@pytest.mark.parametrize("name", _representatives())
def test_one_model_per_family_passes_the_cheap_checks(name, tmp_path, one_thread):
    row = _matrix().check_model(name, ("forward", "features_only", "explain"), workdir=tmp_path)
    failed = {c: row[c]["detail"] for c in ("forward", "features_only", "explain")
              if not row[c]["ok"]}
    assert not failed, failed
