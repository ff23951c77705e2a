"""Multi-scale feature extraction (``create(..., features_only=True)``) for any zoo model.

One mechanism for every model, built-in or plugin: forward hooks on the modules
its spec lists in ``feature_info`` collect their outputs while the backbone's
``forward_features`` runs. Parameter names stay those of the full model, so any
checkpoint of the classifier loads into its feature extractor unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from cnnzoo.config import ModelConfig
from cnnzoo.errors import CnnzooError
from cnnzoo.spec import FeatureStage


class FeatureInfo:
    """Channels, reductions and module names of the extracted stages (timm's API)."""

    def __init__(self, stages: Sequence[FeatureStage]) -> None:
        self.stages = tuple(stages)

    def channels(self) -> list[int]:
        return [s.num_chs for s in self.stages]

    def reduction(self) -> list[int]:
        return [s.reduction for s in self.stages]

    def module_name(self) -> list[str]:
        return [s.module for s in self.stages]

    def get_dicts(self) -> list[dict[str, object]]:
        return [{"module": s.module, "num_chs": s.num_chs, "reduction": s.reduction}
                for s in self.stages]

    def __len__(self) -> int:
        return len(self.stages)

    def __getitem__(self, index: int) -> FeatureStage:
        return self.stages[index]

    def __repr__(self) -> str:
        return f"FeatureInfo(channels={self.channels()}, reduction={self.reduction()})"


def select_stages(
    feature_info: Sequence[FeatureStage], out_indices: Sequence[int] | None, model_name: str
) -> tuple[FeatureStage, ...]:
    """The stages picked by ``out_indices`` (all when ``None``; negatives count from the end)."""
    if not feature_info:
        raise CnnzooError(
            f"{model_name!r} declares no feature stages; features_only is unsupported"
        )
    n = len(feature_info)
    if out_indices is None:
        return tuple(feature_info)
    picked = []
    for index in out_indices:
        if not isinstance(index, int) or not -n <= index < n:
            raise CnnzooError(
                f"out_indices {list(out_indices)} for {model_name!r}: {index!r} is out of range; "
                f"it has {n} feature stages (indices 0..{n - 1}, or -{n}..-1)"
            )
        picked.append(feature_info[index % n])
    return tuple(picked)


class FeatureExtractor(nn.Module):
    """Wraps a model so that ``forward`` returns the feature maps of chosen stages.

    Attributes:
        model: the wrapped network (its classifier removed when it supports that).
        feature_info: a :class:`FeatureInfo` for the returned stages, in order.
    """

    def __init__(self, model: nn.Module, stages: Sequence[FeatureStage]) -> None:
        super().__init__()
        modules = dict(model.named_modules())
        missing = [s.module for s in stages if s.module not in modules]
        if missing:
            raise CnnzooError(
                f"feature_info names modules the model does not have: {missing}"
            )
        self.model = model
        self.feature_info = FeatureInfo(stages)
        cfg = getattr(model, "pretrained_cfg", None) or {}
        self.pretrained_cfg = cfg.copy() if isinstance(cfg, ModelConfig) else dict(cfg)
        self._taps = tuple(s.module for s in stages)
        self._tap_modules = [modules[name] for name in self._taps]  # plain list: not re-registered

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        outputs: dict[str, torch.Tensor] = {}
        handles = []
        for name, module in zip(self._taps, self._tap_modules, strict=True):
            def hook(_module, _inputs, output, name=name):
                outputs[name] = output
            handles.append(module.register_forward_hook(hook))
        try:
            forward = getattr(self.model, "forward_features", self.model.forward)
            forward(x)
        finally:
            for handle in handles:
                handle.remove()
        return [outputs[name] for name in self._taps]
