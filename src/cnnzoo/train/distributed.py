"""Distributed training for :func:`~cnnzoo.train.fit`: one call, one process or many.

Under ``torchrun --nproc_per_node=N script.py`` (``WORLD_SIZE > 1``), :func:`setup`
joins the process group (gloo on CPU, NCCL on CUDA; left at exit), the model is
wrapped in ``DistributedDataParallel`` (gradients averaged; rank 0's initial weights
broadcast), each process reads its share of the data (a ``DistributedSampler`` for
training, :class:`ShardSampler` for evaluation: every sample exactly once, no
padding), BatchNorm buffers are taken from rank 0 after every epoch and the metric
meters are summed with one all-reduce. Only rank 0 writes files or prints.
"""

from __future__ import annotations

import atexit
import contextlib
import os
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn
from torch.utils.data import Sampler

from cnnzoo.errors import TrainError

__all__ = ["DistributedContext", "ShardSampler", "current", "environment", "setup", "teardown",
           "training_device"]


def environment() -> tuple[int, int, int]:
    """``(RANK, WORLD_SIZE, LOCAL_RANK)`` from the environment torchrun sets."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local = int(os.environ.get("LOCAL_RANK", str(rank)))
    return rank, world, local


def training_device(model: nn.Module, device: str | torch.device | None) -> torch.device:
    """``device``, or where the model is (this process's GPU under torchrun on CUDA)."""
    if device is not None:
        return torch.device(device)
    _, world, local = environment()
    for p in model.parameters():
        if p.device.type == "cuda" and world > 1:
            return torch.device("cuda", local)
        return p.device
    return torch.device("cpu")


class ShardSampler(Sampler[int]):
    """Every ``world``-th index from ``rank``: each sample evaluated exactly once in all."""

    def __init__(self, n: int, rank: int, world: int) -> None:
        self.n, self.rank, self.world = n, rank, world

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.n, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.n, self.world))


@dataclass(frozen=True)
class DistributedContext:
    """This process's place in the run (``world_size == 1``: not distributed)."""

    device: torch.device
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        """Whether this process writes files and prints (rank 0)."""
        return self.rank == 0

    def all_reduce(self, vector: torch.Tensor) -> torch.Tensor:
        """Sum ``vector`` over all processes, in place; returns it."""
        if self.world_size > 1:
            dist.all_reduce(vector)
        return vector

    def broadcast_buffers(self, module: nn.Module) -> None:
        """Give every process rank 0's buffers (BatchNorm statistics)."""
        if self.world_size > 1:
            for buf in module.buffers():
                dist.broadcast(buf, 0)

    def wrap(self, model: nn.Module) -> nn.Module:
        """``model`` in ``DistributedDataParallel`` (itself in a single process).

        Raises:
            TrainError: every parameter is frozen (DDP has nothing to synchronise).
        """
        if self.world_size == 1:
            return model
        if not any(p.requires_grad for p in model.parameters()):
            raise TrainError("every parameter is frozen: nothing to train")
        ids = [self.device.index] if self.device.type == "cuda" else None
        return nn.parallel.DistributedDataParallel(model, device_ids=ids)

    def no_sync(self, net: nn.Module, sync: bool) -> AbstractContextManager[object]:
        """Skip DDP's gradient all-reduce for a micro-batch that does not end a step."""
        if self.world_size > 1 and not sync and isinstance(
                net, nn.parallel.DistributedDataParallel):
            return net.no_sync()
        return contextlib.nullcontext()


def setup(device: torch.device) -> DistributedContext:
    """Join the process group torchrun describes (if any) and say where we are.

    Raises:
        TrainError: ``WORLD_SIZE > 1`` on a PyTorch without ``torch.distributed``.
    """
    _, world, _ = environment()
    if world <= 1:
        return current(device)
    if not dist.is_available():
        raise TrainError("WORLD_SIZE > 1 but this PyTorch build has no torch.distributed")
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
        atexit.register(teardown)
    return DistributedContext(device, dist.get_rank(), dist.get_world_size())


def current(device: torch.device) -> DistributedContext:
    """The process group already joined (by :func:`setup` or the caller), if any."""
    if dist.is_available() and dist.is_initialized():
        return DistributedContext(device, dist.get_rank(), dist.get_world_size())
    return DistributedContext(device)


def teardown() -> None:
    """Leave the process group (registered at exit by :func:`setup`)."""
    if dist.is_available() and dist.is_initialized():
        with contextlib.suppress(Exception):
            dist.destroy_process_group()
