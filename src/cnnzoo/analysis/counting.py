"""Counting a model's parameters and the multiply-accumulates of its forward pass."""

from __future__ import annotations

from torch import nn

from cnnzoo.analysis.tracing import DEFAULT_INPUT_SIZE, InputSize, make_input, run
from cnnzoo.errors import AnalysisError

__all__ = ["count_macs", "count_params"]


def count_params(model: nn.Module, trainable_only: bool = False) -> int:
    """Count the parameters of a model.

    Parameters shared between modules are counted once.

    Args:
        model: Any module.
        trainable_only: Count only the parameters with ``requires_grad`` set.

    Returns:
        The number of scalar parameters.

    Raises:
        AnalysisError: If the model still has uninitialised (lazy) parameters
            (a ``ValueError``).

    Example:
        >>> import torch
        >>> from cnnzoo.analysis import count_params
        >>> conv = torch.nn.Conv2d(3, 8, kernel_size=3)
        >>> count_params(conv)
        224
        >>> _ = conv.bias.requires_grad_(False)
        >>> count_params(conv, trainable_only=True)
        216
    """
    total = 0
    for param in model.parameters():
        if isinstance(param, nn.parameter.UninitializedParameter):
            raise AnalysisError(
                f"{type(model).__name__} has uninitialised (lazy) parameters; "
                "run one forward pass before counting them"
            )
        if param.requires_grad or not trainable_only:
            total += param.numel()
    return total


def count_macs(
    model: nn.Module,
    input_size: InputSize = DEFAULT_INPUT_SIZE,
    batch_size: int = 1,
) -> int:
    """Count the multiply-accumulates of one forward pass.

    The count comes from :class:`torch.utils.flop_counter.FlopCounterMode` (MACs are
    half its FLOPs) and covers convolutions (plain and transposed), linear layers and
    matrix products (``mm``, ``addmm``, ``bmm``, attention). It leaves out
    element-wise operations, activations, pooling, normalisation, resampling and bias
    additions, the convention behind torchvision's published ``_ops`` (GMACs) and
    most papers. The model runs under :func:`torch.no_grad` in eval mode; its
    train/eval flags are restored afterwards.

    Args:
        model: Any module.
        input_size: The input shape without the batch dimension, channels first,
            or a ready input batch (a tensor passed to the model as it is).
        batch_size: The batch size used with a shape; must stay 1 with a tensor.

    Returns:
        The number of multiply-accumulates.

    Raises:
        AnalysisError: If ``input_size`` is malformed or the model cannot run on it
            (a ``ValueError``); the message compares the shape the first layer
            expects with the one given.

    Example:
        >>> import torch
        >>> from cnnzoo.analysis import count_macs
        >>> conv = torch.nn.Conv2d(3, 8, kernel_size=3)
        >>> count_macs(conv, (3, 10, 10))  # 8 * 8 outputs * 8 channels * 27 taps
        13824
    """
    x = make_input(model, input_size, batch_size)
    return run(model, x).total_macs
