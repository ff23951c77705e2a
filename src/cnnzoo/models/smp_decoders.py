"""segmentation_models_pytorch's decoders, in pure torch, for any zoo encoder.

Unet, Unet++, FPN, DeepLabV3+, PSPNet and Linknet as in
`segmentation_models_pytorch <https://github.com/qubvel-org/segmentation_models.pytorch>`_
(MIT licence; version 0.6): the same modules under the same names, the same
hyper-parameters and defaults, the same initialisation. An smp checkpoint's
``decoder.*`` and ``segmentation_head.*`` tensors therefore load unchanged; its
``encoder.*`` tensors are converted to the zoo encoder's layout by the ``smp``
checkpoint converter (:mod:`cnnzoo.models.converters.smp`).

The decoders take smp's list of encoder features: the input itself first, then one
map per stage at strides 2, 4, 8, 16, 32. :class:`SmpSegmenter` builds that list
from a zoo ``features_only`` encoder (:func:`smp_feature_layout` says how), runs the
decoder and the segmentation head, and speaks the zoo's model protocol.

Only what a zoo model needs is kept: no ``activation`` after the head (cnnzoo models
return logits) and no ``aux_params`` classification head.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from cnnzoo.errors import InputSizeError, ModelOptionError
from cnnzoo.models.base import ZooModel

__all__ = [
    "NORMS",
    "DeepLabV3PlusDecoder",
    "FPNDecoder",
    "LinknetDecoder",
    "PSPDecoder",
    "SegmentationHead",
    "SmpSegmenter",
    "UnetDecoder",
    "UnetPlusPlusDecoder",
    "initialize_decoder",
    "initialize_head",
    "smp_feature_layout",
]

NORMS: tuple[str, ...] = ("batchnorm", "identity", "instancenorm")
Norm = bool | str | Mapping[str, Any]


# -- smp.base: initialisation, norms, Conv2dReLU, attention, head ----------------------------


def initialize_decoder(module: nn.Module) -> None:
    """smp's decoder initialisation: Kaiming-uniform convs, unit norms, Xavier linears."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_uniform_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.BatchNorm2d | nn.LayerNorm | nn.GroupNorm | nn.InstanceNorm2d):
            if m.weight is not None:
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)
        elif isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)


def initialize_head(module: nn.Module) -> None:
    """smp's head initialisation: Xavier-uniform weights, zero biases."""
    for m in module.modules():
        if isinstance(m, nn.Linear | nn.Conv2d):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0)


def norm_layer(use_norm: Norm, channels: int) -> nn.Module:
    """smp's ``get_norm_layer``: ``True``/``"batchnorm"``, ``False``/``"identity"``,
    ``"instancenorm"`` or ``{"type": …, **kwargs}``.

    Raises:
        ModelOptionError: another value (smp's ``"inplace"`` needs inplace_abn and its
            ``"layernorm"`` normalises the width axis of NCHW maps; neither is offered).
    """
    if use_norm is True:
        params: dict[str, Any] = {"type": "batchnorm"}
    elif use_norm is False:
        params = {"type": "identity"}
    elif isinstance(use_norm, str):
        params = {"type": use_norm.lower()}
    elif isinstance(use_norm, Mapping) and "type" in use_norm:
        params = dict(use_norm)
    else:
        params = {"type": repr(use_norm)}
    kind = str(params.pop("type"))
    if kind == "batchnorm":
        return nn.BatchNorm2d(channels, **params)
    if kind == "identity":
        return nn.Identity()
    if kind == "instancenorm":
        return nn.InstanceNorm2d(channels, **params)
    raise ModelOptionError(
        f"decoder_use_norm={use_norm!r}: choose True, False, one of {', '.join(NORMS)} or "
        "{'type': <one of those>, **kwargs}"
    )


class Conv2dReLU(nn.Sequential):
    """Conv (bias only without a norm) → norm → ReLU, as smp's ``Conv2dReLU``."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 padding: int = 0, stride: int = 1, use_norm: Norm = "batchnorm") -> None:
        norm = norm_layer(use_norm, out_channels)
        conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                         padding=padding, bias=isinstance(norm, nn.Identity))
        super().__init__(conv, norm, nn.ReLU(inplace=True))


class SCSEModule(nn.Module):
    """Concurrent spatial and channel squeeze-and-excitation (smp's ``"scse"`` attention)."""

    def __init__(self, in_channels: int, reduction: int = 16) -> None:
        super().__init__()
        self.cSE = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, in_channels // reduction, 1),
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels // reduction, in_channels, 1),
            nn.Sigmoid(),
        )
        self.sSE = nn.Sequential(nn.Conv2d(in_channels, 1, 1), nn.Sigmoid())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.cSE(x) + x * self.sSE(x)


class Attention(nn.Module):
    """``None`` (identity) or ``"scse"``, under smp's module name ``attention``."""

    def __init__(self, name: str | None, in_channels: int) -> None:
        super().__init__()
        if name is None:
            self.attention: nn.Module = nn.Identity()
        elif name == "scse":
            self.attention = SCSEModule(in_channels)
        else:
            raise ModelOptionError(
                f"decoder_attention_type={name!r}: choose None or 'scse'")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attention(x)


class SegmentationHead(nn.Sequential):
    """Conv (``kernel_size``) → bilinear up-sampling (×``upsampling``) → identity.

    smp's head without its activation; the three positions keep smp's key names
    (``segmentation_head.0.weight``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 3,
                 upsampling: int = 1) -> None:
        conv: nn.Module = (nn.Conv2d(in_channels, out_channels, kernel_size,
                                     padding=kernel_size // 2)
                           if out_channels > 0 else nn.Identity())
        up: nn.Module = (nn.Upsample(mode="bilinear", scale_factor=upsampling,
                                     align_corners=True)
                         if upsampling > 1 else nn.Identity())
        super().__init__(conv, up, nn.Identity())
        self.kernel_size = int(kernel_size)


# -- Unet -------------------------------------------------------------------------------------


class UnetDecoderBlock(nn.Module):
    """Interpolate to the skip's size → concat the skip → attention → two Conv2dReLU."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int,
                 use_norm: Norm = "batchnorm", attention_type: str | None = None,
                 interpolation_mode: str = "nearest") -> None:
        super().__init__()
        self.interpolation_mode = interpolation_mode
        self.conv1 = Conv2dReLU(in_channels + skip_channels, out_channels, 3, 1, use_norm=use_norm)
        self.attention1 = Attention(attention_type, in_channels + skip_channels)
        self.conv2 = Conv2dReLU(out_channels, out_channels, 3, 1, use_norm=use_norm)
        self.attention2 = Attention(attention_type, out_channels)

    def forward(self, x: torch.Tensor, height: Any, width: Any,
                skip: torch.Tensor | None = None) -> torch.Tensor:
        x = F.interpolate(x, size=(height, width), mode=self.interpolation_mode)
        if skip is not None:
            x = self.attention1(torch.cat([x, skip], dim=1))
        return self.attention2(self.conv2(self.conv1(x)))


class UnetCenterBlock(nn.Sequential):
    """Two Conv2dReLU on the deepest feature (smp adds it for VGG encoders)."""

    def __init__(self, in_channels: int, out_channels: int, use_norm: Norm = "batchnorm") -> None:
        super().__init__(Conv2dReLU(in_channels, out_channels, 3, 1, use_norm=use_norm),
                         Conv2dReLU(out_channels, out_channels, 3, 1, use_norm=use_norm))


def _decoder_widths(encoder_channels: Sequence[int], decoder_channels: Sequence[int],
                    n_blocks: int) -> tuple[int, list[int], list[int]]:
    """Head channels, block inputs and skips of a U-shaped decoder (smp's arithmetic)."""
    if n_blocks != len(decoder_channels):
        raise ModelOptionError(
            f"encoder_depth is {n_blocks} but decoder_channels {tuple(decoder_channels)} has "
            f"{len(decoder_channels)} entries; give one width per decoder block")
    chs = list(encoder_channels[1:])[::-1]  # without the input, deepest first
    in_channels = [chs[0], *decoder_channels[:-1]]
    skips = [*chs[1:], 0]
    return chs[0], [int(c) for c in in_channels], [int(c) for c in skips]


class UnetDecoder(nn.Module):
    """smp's ``UnetDecoder``: one block per stage, up-sampling to each skip's size."""

    def __init__(self, encoder_channels: Sequence[int], decoder_channels: Sequence[int],
                 n_blocks: int = 5, use_norm: Norm = "batchnorm",
                 attention_type: str | None = None, add_center_block: bool = False,
                 interpolation_mode: str = "nearest") -> None:
        super().__init__()
        head, ins, skips = _decoder_widths(encoder_channels, decoder_channels, n_blocks)
        self.center: nn.Module = (UnetCenterBlock(head, head, use_norm=use_norm)
                                  if add_center_block else nn.Identity())
        self.blocks = nn.ModuleList(
            UnetDecoderBlock(i, s, o, use_norm=use_norm, attention_type=attention_type,
                             interpolation_mode=interpolation_mode)
            for i, s, o in zip(ins, skips, decoder_channels, strict=False)
        )

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        shapes = [f.shape[2:] for f in features][::-1]
        feats = list(features[1:])[::-1]
        skips = feats[1:]
        x = self.center(feats[0])
        for i, block in enumerate(self.blocks):
            height, width = shapes[i + 1]
            x = block(x, height, width, skips[i] if i < len(skips) else None)
        return x


# -- Unet++ ----------------------------------------------------------------------------------


class UnetPlusPlusBlock(nn.Module):
    """×2 interpolation → concat the skips → attention → two Conv2dReLU (smp's
    ``DecoderBlock``; zero ``out_channels`` makes an empty placeholder)."""

    def __init__(self, in_channels: int, skip_channels: int, out_channels: int,
                 use_norm: Norm = "batchnorm", attention_type: str | None = None,
                 interpolation_mode: str = "nearest") -> None:
        super().__init__()
        self.out_channels = out_channels
        self.is_empty = out_channels == 0
        self.interpolation_mode = interpolation_mode
        self.conv1: nn.Module | None = None
        self.attention1: nn.Module | None = None
        self.conv2: nn.Module | None = None
        self.attention2: nn.Module | None = None
        if self.is_empty:
            return
        self.conv1 = Conv2dReLU(in_channels + skip_channels, out_channels, 3, 1, use_norm=use_norm)
        self.attention1 = Attention(attention_type, in_channels + skip_channels)
        self.conv2 = Conv2dReLU(out_channels, out_channels, 3, 1, use_norm=use_norm)
        self.attention2 = Attention(attention_type, out_channels)

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode=self.interpolation_mode)
        if self.conv1 is None or self.conv2 is None or self.attention1 is None \
                or self.attention2 is None:
            return x.new_empty(x.shape[0], 0, x.shape[2], x.shape[3])
        if skip is not None:
            x = self.attention1(torch.cat([x, skip], dim=1))
        return self.attention2(self.conv2(self.conv1(x)))


class UnetPlusPlusDecoder(nn.Module):
    """smp's ``UnetPlusPlusDecoder``: nested dense skip pathways ``x_{depth}_{layer}``."""

    def __init__(self, encoder_channels: Sequence[int], decoder_channels: Sequence[int],
                 n_blocks: int = 5, use_norm: Norm = "batchnorm",
                 attention_type: str | None = None, interpolation_mode: str = "nearest",
                 center: bool = False) -> None:
        super().__init__()
        head, ins, skips = _decoder_widths(encoder_channels, decoder_channels, n_blocks)
        outs = [int(c) for c in decoder_channels]
        self.in_channels, self.skip_channels, self.out_channels = ins, skips, outs
        self.center: nn.Module = (UnetCenterBlock(head, head, use_norm=use_norm)
                                  if center else nn.Identity())
        kwargs: dict[str, Any] = {"use_norm": use_norm, "attention_type": attention_type,
                                  "interpolation_mode": interpolation_mode}
        blocks: dict[str, nn.Module] = {}
        for layer in range(len(ins) - 1):
            for depth in range(layer + 1):
                if depth == 0:
                    in_ch, skip_ch, out_ch = ins[layer], skips[layer] * (layer + 1), outs[layer]
                else:
                    out_ch = skips[layer]
                    skip_ch = skips[layer] * (layer + 1 - depth)
                    in_ch = skips[layer - 1]
                blocks[f"x_{depth}_{layer}"] = UnetPlusPlusBlock(in_ch, skip_ch, out_ch, **kwargs)
        blocks[f"x_0_{len(ins) - 1}"] = UnetPlusPlusBlock(ins[-1], 0, outs[-1], **kwargs)
        self.blocks = nn.ModuleDict(blocks)
        self.depth = len(ins) - 1

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        feats = list(features[1:])[::-1]
        dense: dict[str, torch.Tensor] = {}
        for layer in range(len(self.in_channels) - 1):
            for depth in range(self.depth - layer):
                if layer == 0:
                    dense[f"x_{depth}_{depth}"] = self.blocks[f"x_{depth}_{depth}"](
                        feats[depth], feats[depth + 1])
                    continue
                dense_l = depth + layer
                cat = [dense[f"x_{i}_{dense_l}"] for i in range(depth + 1, dense_l + 1)]
                skip = torch.cat([*cat, feats[dense_l + 1]], dim=1)
                dense[f"x_{depth}_{dense_l}"] = self.blocks[f"x_{depth}_{dense_l}"](
                    dense[f"x_{depth}_{dense_l - 1}"], skip)
        last = f"x_0_{self.depth}"
        return self.blocks[last](dense[f"x_0_{self.depth - 1}"])


# -- FPN ------------------------------------------------------------------------------------


class Conv3x3GNReLU(nn.Module):
    """Conv 3×3 → GroupNorm(32) → ReLU, then optional ×2 bilinear up-sampling."""

    def __init__(self, in_channels: int, out_channels: int, upsample: bool = False) -> None:
        super().__init__()
        self.upsample = upsample
        self.block = nn.Sequential(
            nn.Conv2d(in_channels, out_channels, 3, stride=1, padding=1, bias=False),
            nn.GroupNorm(32, out_channels),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        if self.upsample:
            x = F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=True)
        return x


class FPNBlock(nn.Module):
    """Top-down step: ×2 interpolation plus the 1×1-projected skip."""

    def __init__(self, pyramid_channels: int, skip_channels: int,
                 interpolation_mode: str = "nearest") -> None:
        super().__init__()
        self.skip_conv = nn.Conv2d(skip_channels, pyramid_channels, kernel_size=1)
        self.interpolation_mode = interpolation_mode

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode=self.interpolation_mode)
        return x + self.skip_conv(skip)


class FPNSegmentationBlock(nn.Module):
    """``n_upsamples`` Conv3x3GNReLU blocks bringing a pyramid level to stride 4."""

    def __init__(self, in_channels: int, out_channels: int, n_upsamples: int = 0) -> None:
        super().__init__()
        blocks = [Conv3x3GNReLU(in_channels, out_channels, upsample=bool(n_upsamples))]
        blocks += [Conv3x3GNReLU(out_channels, out_channels, upsample=True)
                   for _ in range(1, n_upsamples)]
        self.block = nn.Sequential(*blocks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


class FPNDecoder(nn.Module):
    """smp's ``FPNDecoder``: a 4-level pyramid merged (add or cat) at stride 4."""

    def __init__(self, encoder_channels: Sequence[int], encoder_depth: int = 5,
                 pyramid_channels: int = 256, segmentation_channels: int = 128,
                 dropout: float = 0.2, merge_policy: str = "add",
                 interpolation_mode: str = "nearest") -> None:
        super().__init__()
        if merge_policy not in ("add", "cat"):
            raise ModelOptionError(
                f"decoder_merge_policy={merge_policy!r}: choose 'add' or 'cat'")
        if encoder_depth < 3:
            raise ModelOptionError(f"FPN needs encoder_depth >= 3, got {encoder_depth}")
        self.merge_policy = merge_policy
        self.out_channels = segmentation_channels * (1 if merge_policy == "add" else 4)
        chs = list(encoder_channels)[::-1][: encoder_depth + 1]
        self.p5 = nn.Conv2d(chs[0], pyramid_channels, kernel_size=1)
        self.p4 = FPNBlock(pyramid_channels, chs[1], interpolation_mode)
        self.p3 = FPNBlock(pyramid_channels, chs[2], interpolation_mode)
        self.p2 = FPNBlock(pyramid_channels, chs[3], interpolation_mode)
        self.seg_blocks = nn.ModuleList(
            FPNSegmentationBlock(pyramid_channels, segmentation_channels, n_upsamples=n)
            for n in (3, 2, 1, 0)
        )
        self.dropout = nn.Dropout2d(p=dropout, inplace=True)

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        c2, c3, c4, c5 = features[-4:]
        p5 = self.p5(c5)
        p4 = self.p4(p5, c4)
        p3 = self.p3(p4, c3)
        p2 = self.p2(p3, c2)
        pyramid = [block(p) for block, p in zip(self.seg_blocks, (p5, p4, p3, p2), strict=True)]
        x = torch.stack(pyramid).sum(dim=0) if self.merge_policy == "add" \
            else torch.cat(pyramid, dim=1)
        return self.dropout(x)


# -- DeepLabV3+ -----------------------------------------------------------------------------


class SeparableConv2d(nn.Sequential):
    """Depthwise conv (no bias) → pointwise 1×1 conv."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int,
                 stride: int = 1, padding: int = 0, dilation: int = 1, bias: bool = True) -> None:
        super().__init__(
            nn.Conv2d(in_channels, in_channels, kernel_size, stride=stride, padding=padding,
                      dilation=dilation, groups=in_channels, bias=False),
            nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=bias),
        )


def _aspp_conv(in_channels: int, out_channels: int, dilation: int,
               separable: bool) -> nn.Sequential:
    conv: nn.Module = (
        SeparableConv2d(in_channels, out_channels, 3, padding=dilation, dilation=dilation,
                        bias=False) if separable else
        nn.Conv2d(in_channels, out_channels, 3, padding=dilation, dilation=dilation, bias=False)
    )
    return nn.Sequential(conv, nn.BatchNorm2d(out_channels), nn.ReLU())


class ASPPPooling(nn.Sequential):
    """Image pooling branch: global average → 1×1 conv → BN → ReLU → back to size."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(nn.AdaptiveAvgPool2d(1),
                         nn.Conv2d(in_channels, out_channels, kernel_size=1, bias=False),
                         nn.BatchNorm2d(out_channels), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        for module in self:
            x = module(x)
        return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: 1×1, three atrous 3×3 branches, image pooling."""

    def __init__(self, in_channels: int, out_channels: int, atrous_rates: Sequence[int],
                 separable: bool, dropout: float) -> None:
        super().__init__()
        rates = tuple(int(r) for r in atrous_rates)
        if len(rates) != 3:
            raise ModelOptionError(
                f"decoder_atrous_rates must be three rates, got {tuple(atrous_rates)}")
        self.convs = nn.ModuleList([
            nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False),
                          nn.BatchNorm2d(out_channels), nn.ReLU()),
            *(_aspp_conv(in_channels, out_channels, r, separable) for r in rates),
            ASPPPooling(in_channels, out_channels),
        ])
        self.project = nn.Sequential(
            nn.Conv2d(5 * out_channels, out_channels, kernel_size=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.project(torch.cat([conv(x) for conv in self.convs], dim=1))


class DeepLabV3PlusDecoder(nn.Module):
    """smp's ``DeepLabV3PlusDecoder``: ASPP on the deepest map, fused with stride 4."""

    def __init__(self, encoder_channels: Sequence[int], encoder_depth: int, out_channels: int,
                 atrous_rates: Sequence[int], output_stride: int, aspp_separable: bool,
                 aspp_dropout: float) -> None:
        super().__init__()
        if encoder_depth < 3:
            raise ModelOptionError(
                f"DeepLabV3+ needs encoder_depth >= 3, got {encoder_depth}")
        self.aspp = nn.Sequential(
            ASPP(encoder_channels[-1], out_channels, atrous_rates, separable=aspp_separable,
                 dropout=aspp_dropout),
            SeparableConv2d(out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU(),
        )
        scale = 4 if output_stride == 16 and encoder_depth > 3 else 2
        self.up = nn.Upsample(mode="bilinear", scale_factor=scale, align_corners=True)
        highres = 48  # proposed by the paper's authors
        self.block1 = nn.Sequential(
            nn.Conv2d(encoder_channels[2], highres, kernel_size=1, bias=False),
            nn.BatchNorm2d(highres), nn.ReLU())
        self.block2 = nn.Sequential(
            SeparableConv2d(highres + out_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU())

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        aspp = self.up(self.aspp(features[-1]))
        return self.block2(torch.cat([aspp, self.block1(features[2])], dim=1))


# -- PSPNet ---------------------------------------------------------------------------------


def _pool_matrix(n: Any, p: int, like: torch.Tensor) -> torch.Tensor:
    """``[p, n]``: row ``i`` averages adaptive pooling's window ``i`` of ``n`` positions."""
    j = torch.arange(n, device=like.device)
    i = torch.arange(p, device=like.device)
    start, end = (i * n) // p, ((i + 1) * n + p - 1) // p
    window = ((j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])).to(like.dtype)
    return window / window.sum(dim=1, keepdim=True)


def adaptive_avg_pool(x: torch.Tensor, size: int) -> torch.Tensor:
    """``F.adaptive_avg_pool2d(x, size)`` as two matrix products of the input's size.

    Exporters bake adaptive pooling's windows for the traced size (wrong at any other);
    these matrices are computed from the (dynamic) height and width instead.
    """
    rows = _pool_matrix(x.shape[-2], size, x)
    cols = _pool_matrix(x.shape[-1], size, x)
    return torch.matmul(torch.matmul(rows, x), cols.transpose(0, 1))


class PSPBlock(nn.Module):
    """Adaptive average pooling to ``pool_size`` → Conv2dReLU 1×1 → bilinear back.

    Eager runs ``nn.AdaptiveAvgPool2d`` (bit for bit smp's); under ``torch.export``
    (ONNX, ``.pt2``) the same pooling is :func:`adaptive_avg_pool`, right at every size.
    """

    def __init__(self, in_channels: int, out_channels: int, pool_size: int,
                 use_norm: Norm = "batchnorm") -> None:
        super().__init__()
        if pool_size == 1:
            use_norm = "identity"  # BatchNorm cannot normalise a 1x1 map
        self.pool_size = pool_size
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(output_size=(pool_size, pool_size)),
                                  Conv2dReLU(in_channels, out_channels, 1, use_norm=use_norm))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        height, width = x.shape[2:]
        if torch.compiler.is_compiling():
            x = self.pool[1](adaptive_avg_pool(x, self.pool_size))
        else:
            x = self.pool(x)
        return F.interpolate(x, size=(height, width), mode="bilinear", align_corners=True)


class PSPModule(nn.Module):
    """The pyramid pooling module: pools at 1, 2, 3, 6, concatenated with the input."""

    def __init__(self, in_channels: int, sizes: Sequence[int] = (1, 2, 3, 6),
                 use_norm: Norm = "batchnorm") -> None:
        super().__init__()
        self.blocks = nn.ModuleList(
            PSPBlock(in_channels, in_channels // len(sizes), size, use_norm=use_norm)
            for size in sizes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([*(block(x) for block in self.blocks), x], dim=1)


class PSPDecoder(nn.Module):
    """smp's ``PSPDecoder``: pyramid pooling on the deepest map, 1×1 Conv2dReLU, dropout."""

    def __init__(self, encoder_channels: Sequence[int], use_norm: Norm = "batchnorm",
                 out_channels: int = 512, dropout: float = 0.2) -> None:
        super().__init__()
        self.psp = PSPModule(encoder_channels[-1], sizes=(1, 2, 3, 6), use_norm=use_norm)
        self.conv = Conv2dReLU(encoder_channels[-1] * 2, out_channels, 1, use_norm=use_norm)
        self.dropout = nn.Dropout2d(p=dropout)

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.dropout(self.conv(self.psp(features[-1])))


# -- Linknet --------------------------------------------------------------------------------


class TransposeX2(nn.Sequential):
    """ConvTranspose 4×4 stride 2 → norm → ReLU."""

    def __init__(self, in_channels: int, out_channels: int, use_norm: Norm = "batchnorm") -> None:
        super().__init__(
            nn.ConvTranspose2d(in_channels, out_channels, kernel_size=4, stride=2, padding=1),
            norm_layer(use_norm, out_channels), nn.ReLU(inplace=True))


class LinknetBlock(nn.Module):
    """1×1 reduce → transposed ×2 → 1×1 expand, plus the skip (smp's ``DecoderBlock``)."""

    def __init__(self, in_channels: int, out_channels: int, use_norm: Norm = "batchnorm") -> None:
        super().__init__()
        self.block = nn.Sequential(
            Conv2dReLU(in_channels, in_channels // 4, 1, use_norm=use_norm),
            TransposeX2(in_channels // 4, in_channels // 4, use_norm=use_norm),
            Conv2dReLU(in_channels // 4, out_channels, 1, use_norm=use_norm),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor | None = None) -> torch.Tensor:
        x = self.block(x)
        if skip is not None and skip.shape[1] != 0:
            x = x + skip
        return x


class LinknetDecoder(nn.Module):
    """smp's ``LinknetDecoder``: additive skips, ending in ``prefinal_channels``."""

    def __init__(self, encoder_channels: Sequence[int], prefinal_channels: int = 32,
                 n_blocks: int = 5, use_norm: Norm = "batchnorm") -> None:
        super().__init__()
        channels = [*list(encoder_channels[1:])[::-1], prefinal_channels]
        for i in range(1, len(channels) - 1):
            if channels[i] == 0:  # a 0-channel placeholder for a missing stride-2 skip
                channels[i] = channels[i - 1]
        self.blocks = nn.ModuleList(
            LinknetBlock(channels[i], channels[i + 1], use_norm=use_norm) for i in range(n_blocks))

    def forward(self, features: Sequence[torch.Tensor]) -> torch.Tensor:
        feats = list(features[1:])[::-1]
        x, skips = feats[0], feats[1:]
        for i, block in enumerate(self.blocks):
            x = block(x, skips[i] if i < len(skips) else None)
        return x


# -- the model --------------------------------------------------------------------------------


def smp_feature_layout(reductions: Sequence[int]) -> str:
    """How a zoo encoder's feature strides map onto smp's ``[input, /2, /4, /8, /16, /32]``.

    ``"standard"`` (2, 4, 8…: ResNet, EfficientNet…; the input is prepended),
    ``"transformer"`` (4, 8, 16…: ConvNeXt…; the input and an empty stride-2 map are
    prepended) or ``"vgg"`` (1, 2, 4…: the first feature is at input resolution).
    These are smp's three patterns (its ``TimmUniversalEncoder``).

    Raises:
        ModelOptionError: any other sequence of strides.
    """
    reds = [int(r) for r in reductions]
    n = len(reds)
    for layout, first in (("standard", 1), ("transformer", 2), ("vgg", 0)):
        if reds == [2 ** (i + first) for i in range(n)]:
            return layout
    raise ModelOptionError(
        f"the encoder's feature strides {reds} do not double from 2 (ResNet-like), 4 "
        "(ConvNeXt-like) or 1 (VGG-like), so smp's decoders cannot use them")


class SmpSegmenter(ZooModel):
    """A zoo encoder, an smp decoder and smp's segmentation head.

    ``forward_features`` runs the encoder and the decoder (checking the input size
    first), ``forward_head`` the head (conv, then the head's up-sampling).
    ``get_classifier`` returns the head's conv and ``reset_classifier(n)`` replaces it.

    Args:
        encoder: a ``features_only`` module returning one map per stage.
        decoder: one of this module's decoders, built for ``smp_channels``.
        segmentation_head: a :class:`SegmentationHead`.
        name: the architecture, for messages (``"FPN"``).
        num_classes: the head's classes.
        in_chans: input channels.
        layout: :func:`smp_feature_layout` of the encoder.
        depth: how many encoder stages the decoder uses (smp's ``encoder_depth``).
        size_multiple: the decoder's stride: heights and widths that are multiples of
            it keep every shape exact (export makes them dynamic in these steps).
        any_size: the decoder takes any height and width (smp's Unet); otherwise
            :meth:`check_input_size` asks for multiples of ``size_multiple``.
        feature_info: the encoder stages (timm-style dicts).
        stage_modules: the parameter groups, stem … decoder, head.
    """

    def __init__(self, encoder: nn.Module, decoder: nn.Module, segmentation_head: SegmentationHead,
                 *, name: str, num_classes: int, in_chans: int, layout: str, depth: int,
                 size_multiple: int, feature_info: list[dict[str, Any]],
                 stage_modules: dict[str, tuple[str, ...]], any_size: bool = False) -> None:
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.segmentation_head: nn.Sequential = segmentation_head
        self.arch_name = name
        self.num_classes = int(num_classes)
        self.in_chans = int(in_chans)
        self.layout = layout
        self.encoder_depth = int(depth)
        self.size_multiple = int(size_multiple)
        self.any_size = bool(any_size)
        self.head_kernel = segmentation_head.kernel_size
        self.num_features = int(segmentation_head[0].in_channels) \
            if isinstance(segmentation_head[0], nn.Conv2d) else 0
        self.feature_info = feature_info
        self.stage_modules = stage_modules
        self.stages = tuple(stage_modules)

    def check_input_size(self, x: torch.Tensor) -> None:
        """Raise :class:`~cnnzoo.errors.InputSizeError` unless H and W fit the stride."""
        m = self.size_multiple
        h, w = x.shape[-2], x.shape[-1]
        if self.any_size or m <= 1 or (h % m == 0 and w % m == 0):
            return

        def near(v: int) -> str:
            low, high = (v // m) * m, -(-v // m) * m
            return str(v) if v % m == 0 else (f"{high}" if low == 0 else f"{low} or {high}")

        raise InputSizeError(
            f"{self.arch_name} takes heights and widths that are multiples of {m} (its "
            f"encoder's output stride); got {h}×{w}. Nearest valid sizes: height {near(h)}, "
            f"width {near(w)} — resize or pad the input")

    def smp_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The encoder's maps as smp's decoders take them (see :func:`smp_feature_layout`)."""
        feats = list(self.encoder(x))
        if self.layout == "transformer":
            empty = x.new_empty(x.shape[0], 0, x.shape[2] // 2, x.shape[3] // 2)
            feats = [x, empty, *feats]
        elif self.layout == "standard":
            feats = [x, *feats]
        return feats[: self.encoder_depth + 1]

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input_size(x)
        return self.decoder(self.smp_features(x))

    def forward_head(self, x: torch.Tensor, pre_logits: bool = False) -> torch.Tensor:
        return x if pre_logits else self.segmentation_head(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, classes, H, W]`` at the input's size.

        With encoders whose feature maps are not exactly ``size / stride`` (an
        unpadded stem, e.g. SqueezeNet's) the head's output is resized bilinearly to
        the input; with the others (and always in smp's cases) it already fits.
        """
        out = self.forward_head(self.forward_features(x))
        if not torch.compiler.is_compiling() and out.shape[-2:] != x.shape[-2:]:
            out = F.interpolate(out, size=x.shape[-2:], mode="bilinear", align_corners=False)
        return out

    def get_classifier(self) -> nn.Module:
        return self.segmentation_head[0]

    def _make_classifier(self, num_classes: int) -> None:
        k = self.head_kernel
        conv: nn.Module = (nn.Conv2d(self.num_features, num_classes, k, padding=k // 2)
                           if num_classes > 0 else nn.Identity())
        initialize_head(conv)
        self.segmentation_head[0] = conv
