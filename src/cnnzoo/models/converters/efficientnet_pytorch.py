"""The ``efficientnet_pytorch`` layout (``_conv_stem``, ``_blocks.N._depthwise_conv``…) → timm's.

Luke Melas-Kyriazi's ``efficientnet_pytorch`` is widely used, and many fine-tuned
EfficientNet checkpoints are in its layout: a flat ``_blocks.N`` list, TensorFlow's
"same" padding and BatchNorm epsilon 1e-3. This converter renames the keys to timm's
staged ``blocks.S.B`` layout and asks the builder for the same padding and epsilon
(``build_kwargs``), so the converted model computes what the original did.

Stages are recovered from the tensors themselves: in EfficientNet every stage has its
own output width, so consecutive blocks with the same ``_project_conv`` output channels
form one stage. Keys this converter does not know are an error naming them — nothing
is dropped silently.

Example:
    >>> import torch
    >>> from cnnzoo.models.converters.efficientnet_pytorch import EFFICIENTNET_PYTORCH
    >>> state = {"_conv_stem.weight": torch.zeros(32, 3, 3, 3),
    ...          "_blocks.0._depthwise_conv.weight": torch.zeros(32, 1, 3, 3),
    ...          "_blocks.0._project_conv.weight": torch.zeros(16, 32, 1, 1),
    ...          "_fc.weight": torch.zeros(10, 1280)}
    >>> for key in sorted(EFFICIENTNET_PYTORCH(state)):
    ...     print(key)
    blocks.0.0.conv_dw.weight
    blocks.0.0.conv_pw.weight
    classifier.weight
    conv_stem.weight
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from torch import Tensor

from cnnzoo.models.converters.torchvision import CheckpointConverter

_TOP = {
    "_conv_stem": "conv_stem",
    "_bn0": "bn1",
    "_conv_head": "conv_head",
    "_bn1": "bn2",
    "_fc": "classifier",
}
# Blocks without an expansion conv (the first stage's; timm: DepthwiseSeparableConv).
_SEPARABLE = {
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn1",
    "_se_reduce": "se.conv_reduce",
    "_se_expand": "se.conv_expand",
    "_project_conv": "conv_pw",
    "_bn2": "bn2",
}
# Blocks with one are inverted residuals (timm: InvertedResidual).
_INVERTED = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_se_reduce": "se.conv_reduce",
    "_se_expand": "se.conv_expand",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}
_BLOCK = re.compile(r"^_blocks\.(\d+)\.(\w+)\.(\w+)$")
_TOP_KEY = re.compile(r"^(_\w+)\.(\w+)$")


def _stage_positions(state: Mapping[str, Tensor]) -> dict[int, tuple[int, int]]:
    """Flat block index → ``(stage, index within stage)``, stages split where widths change."""
    widths: dict[int, int] = {}
    for key, tensor in state.items():
        match = _BLOCK.match(key)
        if match and match.group(2) == "_project_conv" and match.group(3) == "weight":
            widths[int(match.group(1))] = int(tensor.shape[0])
    positions: dict[int, tuple[int, int]] = {}
    stage, within, previous = -1, 0, None
    for block in sorted(widths):
        if widths[block] != previous:
            stage, within, previous = stage + 1, 0, widths[block]
        positions[block] = (stage, within)
        within += 1
    return positions


def convert_efficientnet_pytorch(state_dict: Mapping[str, Tensor]) -> dict[str, Tensor]:
    """An ``efficientnet_pytorch`` state dict (EfficientNet B0–B7, Lite) in timm's layout.

    Raises:
        KeyError: the state dict is not in this layout (no ``_conv_stem.weight``), or
            holds keys the layout does not have (they are named).
    """
    if "_conv_stem.weight" not in state_dict:
        raise KeyError("not the efficientnet_pytorch layout: no '_conv_stem.weight'")
    positions = _stage_positions(state_dict)
    expanded = {int(m.group(1)) for k in state_dict if (m := _BLOCK.match(k))
                and m.group(2) == "_expand_conv"}
    out: dict[str, Tensor] = {}
    unknown: list[str] = []
    for key, tensor in state_dict.items():
        target = _rename(key, positions, expanded)
        if target is None:
            unknown.append(key)
        else:
            out[target] = tensor
    if unknown:
        raise KeyError(f"keys the efficientnet_pytorch layout does not have: "
                       f"{', '.join(sorted(unknown)[:8])}")
    return out


def _rename(key: str, positions: Mapping[int, tuple[int, int]], expanded: set[int]
            ) -> str | None:
    block = _BLOCK.match(key)
    if block:
        index, module, leaf = int(block.group(1)), block.group(2), block.group(3)
        if index not in positions:
            return None
        stage, within = positions[index]
        table = _INVERTED if index in expanded else _SEPARABLE
        name = table.get(module)
        return None if name is None else f"blocks.{stage}.{within}.{name}.{leaf}"
    top = _TOP_KEY.match(key)
    if top and top.group(1) in _TOP:
        return f"{_TOP[top.group(1)]}.{top.group(2)}"
    return None


# TensorFlow's "same" padding and BatchNorm epsilon, as efficientnet_pytorch builds them.
EFFICIENTNET_PYTORCH = CheckpointConverter(
    "efficientnet_pytorch", convert_efficientnet_pytorch,
    build_kwargs={"pad_type": "same", "bn_eps": 1e-3},
)

__all__ = ["EFFICIENTNET_PYTORCH", "convert_efficientnet_pytorch"]
