"""Progress bars and printed lines of :func:`~cnnzoo.train.fit` (``progress=``, ``verbose=``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import torch

__all__ = ["EpochProgress", "print_line"]


class EpochProgress:
    """The batches of one epoch, behind a tqdm bar when ``enabled``.

    tqdm is imported only when a bar is shown.
    """

    def __init__(self, batches: Iterable[Any], epoch: int, epochs: int, *, enabled: bool) -> None:
        self.bar = None
        self.batches = batches
        if enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(batches, desc=f"epoch {epoch + 1}/{epochs}", leave=False,
                            dynamic_ncols=True)
            self.batches = self.bar

    def __iter__(self) -> Iterator[Any]:
        return iter(self.batches)

    def show_loss(self, step: int, loss: torch.Tensor) -> None:
        """Show the batch loss every 10 optimizer steps (reading it costs a sync)."""
        if self.bar is not None and step % 10 == 0:
            self.bar.set_postfix(loss=f"{float(loss):.4f}", refresh=False)

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()


def print_line(line: str, bars: bool) -> None:
    """Print ``line`` (through tqdm, so that it does not break a bar, when bars are shown)."""
    if bars:
        from tqdm.auto import tqdm

        tqdm.write(line)
    else:
        print(line, flush=True)
