"""Exact receptive fields, propagated operator by operator through the executed graph.

:func:`receptive_field` runs one forward pass under
:class:`~cnnzoo.analysis.receptive_fields.mode.ReceptiveFieldMode`, which carries
alongside every tensor derived from the input the interval of input pixels each unit
sees. The modules, bottom up:

- :mod:`~cnnzoo.analysis.receptive_fields.spans`: interval arithmetic along one axis;
- :mod:`~cnnzoo.analysis.receptive_fields.layout`: how a tensor's axes map onto the
  input's, and how operators fold and merge them;
- :mod:`~cnnzoo.analysis.receptive_fields.windows`: sliding windows (convolution,
  pooling, resampling);
- :mod:`~cnnzoo.analysis.receptive_fields.store`: which meta each live tensor carries;
- :mod:`~cnnzoo.analysis.receptive_fields.mixing`,
  :mod:`~cnnzoo.analysis.receptive_fields.reshaping`,
  :mod:`~cnnzoo.analysis.receptive_fields.sliding`: the operator handlers;
- :mod:`~cnnzoo.analysis.receptive_fields.dispatch`: the table from operator to handler;
- :mod:`~cnnzoo.analysis.receptive_fields.mode`: the dispatch mode itself.
"""

from __future__ import annotations

import warnings

from torch import nn

from cnnzoo.analysis.receptive_fields.mode import ReceptiveFieldMode
from cnnzoo.analysis.tracing import DEFAULT_INPUT_SIZE, InputSize, make_input, run

__all__ = ["ReceptiveFieldMode", "receptive_field"]


def receptive_field(
    model: nn.Module,
    input_size: InputSize = DEFAULT_INPUT_SIZE,
) -> dict[str, tuple[int, int | float]]:
    """Compute the receptive field and the jump of every module's output.

    One forward pass carries, through every operator, the interval of input pixels
    each unit sees, so residual additions, concatenations and skip connections are
    handled exactly. The receptive field is the extent in input pixels (the largest
    over the output's units and spatial axes; padding counts, so it can exceed the
    input size); the jump (cumulative stride) is the distance in input pixels between
    neighbouring units. Flattening keeps each unit's field; a layer that mixes all
    positions (global pooling, a linear layer after flattening) sees the whole input.
    Jumps are integers unless the network resamples by a non-integer factor.

    Args:
        model: Any module.
        input_size: The input shape without the batch dimension, channels first,
            or a ready input batch. Local receptive fields do not depend on the input
            size, so a small input is enough; those of layers that see the whole input
            grow with it.

    Returns:
        ``{name: (receptive_field, jump)}`` for every module call (containers and
        leaves) in execution order; a second call of a module is named ``name#2``.

    Raises:
        AnalysisError: If ``input_size`` is malformed or the model cannot run on it
            (a ``ValueError``).

    Example:
        >>> import torch
        >>> from cnnzoo.analysis import receptive_field
        >>> net = torch.nn.Sequential(
        ...     torch.nn.Conv2d(1, 4, 3), torch.nn.MaxPool2d(2), torch.nn.Conv2d(4, 4, 3))
        >>> receptive_field(net, (1, 16, 16))
        {'0': (3, 1), '1': (4, 2), '2': (8, 2)}
    """
    x = make_input(model, input_size, 1)
    trace = run(model, x, ReceptiveFieldMode(x))
    if trace.notes:
        warnings.warn(
            "some receptive fields are only bounded: " + "; ".join(trace.notes),
            RuntimeWarning,
            stacklevel=2,
        )
    return {
        call.name: (call.rf, call.jump)
        for call in trace.calls
        if call.rf is not None
        and call.jump is not None
        and (call.depth >= 1 or call.min_sub_depth is None)
    }
