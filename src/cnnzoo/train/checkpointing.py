"""Saving the best model of a run in the Hub format (``fit(checkpoint_dir=...)``).

Every improvement of the monitored metric overwrites the folder with
:func:`cnnzoo.hub.save_pretrained` (``config.json`` + ``model.safetensors``); at the
end a model card (``README.md``) with the best metric is written, unless the folder
had one before the run. In a distributed run only rank 0 writes.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from torch import nn

from cnnzoo._utils import atomic_write_text
from cnnzoo.hub import model_card, model_config, save_pretrained

__all__ = ["BestCheckpoint"]


class BestCheckpoint:
    """The folder holding a run's best model.

    Args:
        folder: where to save.
        model: the model to be saved; its config is built now so that a model that
            cannot be saved fails before training, not after the first epoch.
        is_main: whether this process writes (rank 0).

    Raises:
        HubFormatError: the model cannot be saved in the Hub format.
    """

    def __init__(self, folder: str | os.PathLike[str], model: nn.Module, *,
                 is_main: bool = True) -> None:
        model_config(model)
        self.folder = Path(folder)
        self.is_main = is_main
        self.had_card = (self.folder / "README.md").exists()

    def save(self, model: nn.Module) -> Path:
        """Save ``model`` (weights and config, no card) as the best so far."""
        if self.is_main:
            save_pretrained(model, self.folder, write_model_card=False)
        return self.folder

    def finish(self, model: nn.Module, metrics: Mapping[str, float]) -> None:
        """Write the model card with ``metrics``, unless the folder came with one."""
        if self.is_main and not self.had_card and metrics:
            atomic_write_text(self.folder / "README.md",
                              model_card(model, metrics=dict(metrics)))
