"""Shared fixtures: determinism, one torch thread per xdist worker, repository paths, the Hub.

Tests marked ``@pytest.mark.exhaustive`` (every model through a verb) are skipped unless
``CNNZOO_EXHAUSTIVE=1``: ``scripts/run_exhaustive.py`` sets it, runs ``pytest -m
exhaustive`` and records the results in ``bench/results/exhaustive.json``.

Helper functions live in :mod:`tests.helpers` and are imported from there, always as
``from tests.helpers import …``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from tests.helpers import ROOT
from tests.hub.hubserver import HubServer, use_endpoint

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

# Two xdist workers on two cores: one intra-op thread each (set before torch is imported).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


EXHAUSTIVE_ENV = "CNNZOO_EXHAUSTIVE"
SKIP_REASON = "exhaustive tier: run scripts/run_exhaustive.py"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get(EXHAUSTIVE_ENV) == "1":
        return
    skip = pytest.mark.skip(reason=SKIP_REASON)
    for item in items:
        if item.get_closest_marker("exhaustive") is not None:
            item.add_marker(skip)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "strict_hub: the `hub` fixture also fails the test if the server logged an unexpected "
        "error (`hub.errors`)",
    )


@pytest.fixture(autouse=True)
def _seed():
    import torch

    torch.manual_seed(0)
    yield


@pytest.fixture(scope="module")
def one_thread():
    """One intra-op thread (torch and onnxruntime) for a module's tests.

    On two shared, busy cores a second OpenMP thread waiting for a core makes small
    forward passes 10-40x slower and erratic, not faster.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT


@pytest.fixture
def hub(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[HubServer]:
    """A local Hub-compatible server (``tests/hub/hubserver.py``) for one test.

    huggingface_hub — in this process and in subprocesses started with ``os.environ`` — is
    pointed at it, with its cache in ``tmp_path / "hf-cache"``; ``CNNZOO_LOCK`` is unset so a
    developer's lock file never interferes. Under ``@pytest.mark.strict_hub`` the test also
    fails at teardown if the server hit an unexpected error (``server.errors``).
    """
    with HubServer() as server:
        use_endpoint(monkeypatch, server.url, tmp_path / "hf-cache")
        monkeypatch.delenv("CNNZOO_LOCK", raising=False)
        yield server
        if request.node.get_closest_marker("strict_hub") is not None:
            assert server.errors == []
