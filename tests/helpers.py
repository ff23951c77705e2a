"""Helpers shared by the test modules: ``from tests.helpers import materialize, ROOT``."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


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
