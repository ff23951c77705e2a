"""Shared fixtures: determinism, one torch thread per xdist worker, repository paths.

Helper functions live in :mod:`tests.helpers` and are imported from there, always as
``from tests.helpers import …``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from tests.helpers import ROOT

if TYPE_CHECKING:
    from pathlib import Path

# Two xdist workers on two cores: one intra-op thread each (set before torch is imported).
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")


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
