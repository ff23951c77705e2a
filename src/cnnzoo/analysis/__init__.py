"""Model analysis: parameter counts, multiply-accumulates, layer tables and receptive fields.

Everything here works on any :class:`torch.nn.Module`; nothing depends on the rest of
cnnzoo but its errors and shared helpers. Each analysis runs one forward pass under
:func:`torch.no_grad` with the model in eval mode, then restores every module's
train/eval flag and removes its hooks.

MACs come from :class:`torch.utils.flop_counter.FlopCounterMode` (one
multiply-accumulate is two FLOPs). As in torchvision's published ``_ops`` (GMACs)
and most papers, only convolutions (plain and transposed), linear layers and matrix
products count; element-wise operations, activations, pooling, normalisation,
resampling and bias additions do not.

Receptive fields are propagated operator by operator through the graph the forward
pass really executes (residual additions, concatenations, skip connections,
flattening, matrix products), so they are exact for branching networks instead of
treating the network as a chain. For each spatial axis of the input a tensor
carries the *jump* (the distance, in input pixels, between neighbouring units) and
the interval of input pixels each unit sees. A convolution with kernel ``k``,
stride ``s``, padding ``p`` and dilation ``d`` maps jump ``j`` and receptive field
``r`` to ``s * j`` and ``r + (k - 1) * d * j``; an element-wise operation or a
concatenation takes the union of its inputs' intervals, whose offsets may differ;
a reduction over a spatial axis (global pooling, a linear layer after flattening)
takes the union over every unit it reduces. Upsampling, transposed convolutions
and uneven adaptive pooling make neighbouring units differ; their intervals are
tracked phase by phase, so these stay exact too. Receptive fields follow the usual
theoretical convention: padding counts, so a deep network's value can exceed the
input size, and normalisation statistics (batch, group and layer norm, softmax)
count as point-wise. The few operators that cannot be followed exactly (a roll, a
gather, a reshape that mixes positions) are bounded by the whole input and
reported in :attr:`ModelSummary.notes`.

The package holds one job per module: :mod:`~cnnzoo.analysis.tracing` (the one
forward pass with its hooks), :mod:`~cnnzoo.analysis.counting` (:func:`count_params`,
:func:`count_macs`), :mod:`~cnnzoo.analysis.layers` (:func:`summary` and its table) and
:mod:`~cnnzoo.analysis.receptive_fields` (:func:`receptive_field` and the dispatch mode
behind it). Bad input raises :class:`~cnnzoo.errors.AnalysisError`, a ``ValueError``.
"""

from __future__ import annotations

from cnnzoo.analysis.counting import count_macs, count_params
from cnnzoo.analysis.layers import LayerRow, ModelSummary, summary
from cnnzoo.analysis.receptive_fields import receptive_field
from cnnzoo.analysis.tracing import InputSize

__all__ = [
    "InputSize",
    "LayerRow",
    "ModelSummary",
    "count_macs",
    "count_params",
    "receptive_field",
    "summary",
]
