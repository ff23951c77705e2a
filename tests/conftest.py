"""Shared fixtures: determinism, a small thread count, repository paths."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


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


def materialize(module):
    """Give a meta-device module real CPU storage with cheap, well-scaled values.

    Tests that only check shapes use this instead of a full random init, which for
    the 100M-parameter models costs seconds each.
    """
    import torch

    module.to_empty(device="cpu")
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if name.endswith("running_var"):
                tensor.fill_(1.0)
            elif name.endswith(("running_mean", "num_batches_tracked")):
                tensor.zero_()
            elif tensor.is_floating_point():
                tensor.normal_(0.0, 0.02)
    return module
