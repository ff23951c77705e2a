"""The deployment tests' tiers: ``@pytest.mark.exhaustive`` tests run only on request.

The default run exports one model per family; the every-model checks are marked
``exhaustive`` and skipped unless ``CNNZOO_EXHAUSTIVE=1`` (``scripts/run_exhaustive.py``
sets it, runs ``pytest -m exhaustive`` and records the results in
``bench/results/exhaustive.json``).
"""

from __future__ import annotations

import os

import pytest

EXHAUSTIVE_ENV = "CNNZOO_EXHAUSTIVE"
SKIP_REASON = "exhaustive tier: run scripts/run_exhaustive.py"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(EXHAUSTIVE_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("exhaustive") is not None:
            item.add_marker(skip)
