"""Transfer learning by stage: freeze, unfreeze, per-stage learning rates, progressive unfreezing.

Every zoo model's spec names its stages in order — ``stem``, ``stage1`` … ``stageN``,
``head`` (UNet adds ``decoder``) — and the module-name prefixes each stage owns
(``ModelSpec.stage_modules``); every parameter falls in exactly one stage. The
stages of a model come from ``cnnzoo.model_info(model.pretrained_cfg["architecture"])``,
or from the model's own ``stage_modules`` attribute when it has one (a UNet built on
a zoo encoder groups that encoder's modules itself).

BatchNorm in frozen stages: :func:`freeze` with ``bn_eval=True`` (the default) puts
the BatchNorm layers of the frozen stages in eval mode — they normalise with their
running statistics and stop updating them — and keeps them there across
``model.train()``: a forward-pre hook on each such layer switches it back to eval
just before it runs. :func:`unfreeze` removes the hooks. Without it, a frozen
backbone's running statistics would still drift towards the new data (and its
parameters, though untouched by the optimiser, would see different activations).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from cnnzoo._utils import did_you_mean, unwrap
from cnnzoo.errors import StageError, TrainError
from cnnzoo.spec import REGISTRY
from cnnzoo.train.callbacks import Callback
from cnnzoo.train.state import FitState

__all__ = [
    "ProgressiveUnfreezing",
    "StageError",
    "TrainableCount",
    "count_trainable",
    "freeze",
    "frozen_stages",
    "param_groups",
    "stage_of_parameters",
    "stages",
    "unfreeze",
]

_BN_HOOKS = "_cnnzoo_bn_eval_hooks"


def _unwrap(model: nn.Module) -> nn.Module:
    """The zoo model inside DDP/DataParallel (:func:`cnnzoo._utils.unwrap`) and AveragedModel."""
    model = unwrap(model)
    while isinstance(model, AveragedModel):
        model = unwrap(model.module)
    return model


def stages(model: nn.Module) -> dict[str, tuple[str, ...]]:
    """The model's stages in order, each with the module-name prefixes it owns.

    Example:
        >>> import cnnzoo
        >>> from cnnzoo.train.transfer import stages
        >>> list(stages(cnnzoo.create("lenet5")))
        ['stem', 'stage1', 'pre_logits', 'head']
    """
    model = _unwrap(model)
    own = getattr(model, "stage_modules", None)
    if isinstance(own, Mapping) and own:
        return {str(k): tuple(v) for k, v in own.items()}
    arch = _architecture(model)
    if not arch:
        raise StageError(
            f"{type(model).__name__} carries no pretrained_cfg['architecture']; build it with "
            "cnnzoo.create() so its stages are known"
        )
    spec = REGISTRY.get(arch)
    if not spec.stages or not spec.stage_modules:
        raise StageError(f"{spec.name!r} (registered by {spec.source}) declares no stages; "
                         "freezing and per-stage learning rates need ModelSpec.stages and "
                         "stage_modules")
    return {stage: tuple(spec.stage_modules.get(stage, ())) for stage in spec.stages}


_stage_table = stages  # for functions whose ``stages`` argument shadows the name


def _architecture(model: nn.Module) -> str | None:
    """``pretrained_cfg["architecture"]`` (a dict or a ModelConfig), if the model has one."""
    cfg = getattr(model, "pretrained_cfg", None)
    arch = cfg.get("architecture") if isinstance(cfg, Mapping) else None
    return str(arch) if arch else None


def _matches(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def stage_of_parameters(model: nn.Module) -> dict[str, str]:
    """``{parameter name: stage}`` for every parameter (the longest matching prefix wins).

    Raises:
        StageError: a parameter no stage owns.
    """
    model = _unwrap(model)
    table = _stage_table(model)
    prefixes = sorted(((p, s) for s, ps in table.items() for p in ps),
                      key=lambda item: -len(item[0]))
    out: dict[str, str] = {}
    orphans = []
    for name, _ in model.named_parameters():
        stage = next((s for p, s in prefixes if _matches(name, p)), None)
        if stage is None:
            orphans.append(name)
        else:
            out[name] = stage
    if orphans:
        raise StageError(
            f"parameters outside every stage of {type(model).__name__}: "
            + ", ".join(orphans[:8]) + (f" … ({len(orphans)} in all)" if len(orphans) > 8 else "")
            + "; the spec's stage_modules must cover every parameter"
        )
    return out


def _check_stages(model: nn.Module, names: Iterable[str]) -> list[str]:
    known = list(_stage_table(model))
    out = []
    for name in names:
        if name not in known:
            raise StageError(
                f"unknown stage {name!r}; {_arch(model)} has the stages {', '.join(known)}"
                + did_you_mean(name, known)
            )
        out.append(name)
    return out


def _arch(model: nn.Module) -> str:
    arch = _architecture(_unwrap(model))
    return repr(arch) if arch else type(_unwrap(model)).__name__


def _select(model: nn.Module, until: str | None, names: Iterable[str] | None) -> list[str]:
    order = list(_stage_table(model))
    if names is not None:
        if until is not None:
            raise StageError("pass until= or stages=, not both")
        if isinstance(names, str):
            names = [names]
        return _check_stages(model, names)
    if until is None:
        return order[:-1]  # everything but the head
    if until == "all":
        return order
    (until,) = _check_stages(model, [until])
    return order[: order.index(until) + 1]


def _stage_modules(model: nn.Module, chosen: Iterable[str]) -> list[nn.Module]:
    table = _stage_table(model)
    modules = []
    for stage in chosen:
        for prefix in table[stage]:
            try:
                modules.append(model.get_submodule(prefix))
            except AttributeError:
                continue  # a prefix naming a parameter, or a module this variant lacks
    return modules


def _bn_eval_hook(module: nn.Module, args: Any) -> None:
    module.training = False


def _set_bn_eval(model: nn.Module, chosen: Iterable[str], on: bool) -> None:
    hooks: dict[int, Any] = model.__dict__.setdefault(_BN_HOOKS, {})
    for module in _stage_modules(model, chosen):
        for bn in module.modules():
            if not isinstance(bn, nn.modules.batchnorm._BatchNorm):
                continue
            key = id(bn)
            if on and key not in hooks:
                hooks[key] = bn.register_forward_pre_hook(_bn_eval_hook)
                bn.eval()
            elif not on and key in hooks:
                hooks.pop(key).remove()
                bn.train(model.training)


def freeze(model: nn.Module, until: str | None = None, *, stages: Iterable[str] | None = None,
           bn_eval: bool = True) -> list[str]:
    """Stop training the early stages of ``model``.

    Args:
        model: a zoo model.
        until: the last stage to freeze, inclusive (``"stage3"`` freezes ``stem`` …
            ``stage3``); ``None`` freezes every stage but the head (linear probing);
            ``"all"`` freezes everything.
        stages: freeze exactly these stages instead (``until`` must then be ``None``).
        bn_eval: keep the BatchNorm layers of the frozen stages in eval mode, even
            across ``model.train()`` (see the module docstring).

    Returns:
        the frozen stage names.

    Raises:
        StageError: an unknown stage (the message lists the model's stages).

    Example:
        >>> import cnnzoo
        >>> from cnnzoo.train.transfer import freeze, count_trainable
        >>> model = cnnzoo.create("resnet18", num_classes=5)
        >>> freeze(model, until="stage3")
        ['stem', 'stage1', 'stage2', 'stage3']
        >>> count_trainable(model).trainable
        8396293
    """
    model = _unwrap(model)
    chosen = _select(model, until, stages)
    owner = stage_of_parameters(model)
    chosen_set = set(chosen)
    for name, param in model.named_parameters():
        if owner[name] in chosen_set:
            param.requires_grad_(False)
    if bn_eval:
        _set_bn_eval(model, chosen, True)
    return chosen


def unfreeze(model: nn.Module, stages: Iterable[str] | str | None = None) -> list[str]:
    """Train ``stages`` again (default: all); their BatchNorm layers follow ``model.train()``.

    Returns:
        the unfrozen stage names.
    """
    model = _unwrap(model)
    order = list(_stage_table(model))
    chosen = order if stages in (None, "all") else _check_stages(
        model, [stages] if isinstance(stages, str) else stages)
    owner = stage_of_parameters(model)
    chosen_set = set(chosen)
    for name, param in model.named_parameters():
        if owner[name] in chosen_set:
            param.requires_grad_(True)
    _set_bn_eval(model, chosen, False)
    return list(chosen)


def frozen_stages(model: nn.Module) -> list[str]:
    """Stages whose parameters are all frozen (stages without parameters are skipped)."""
    model = _unwrap(model)
    owner = stage_of_parameters(model)
    params = dict(model.named_parameters())
    out = []
    for stage in _stage_table(model):
        mine = [params[n] for n, s in owner.items() if s == stage]
        if mine and not any(p.requires_grad for p in mine):
            out.append(stage)
    return out


@dataclass(frozen=True)
class TrainableCount:
    """Trainable and total parameter counts."""

    trainable: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.trainable / self.total if self.total else 0.0

    def __iter__(self) -> Iterator[float]:  # (trainable, total, percent) unpacking
        return iter((self.trainable, self.total, self.percent))

    def __str__(self) -> str:
        return f"{self.trainable:,} of {self.total:,} parameters trainable ({self.percent:.2f} %)"


def count_trainable(model: nn.Module) -> TrainableCount:
    """``(trainable, total, percent)`` of the model's parameters (shared ones once)."""
    seen: set[int] = set()
    trainable = total = 0
    for param in _unwrap(model).parameters():
        if id(param) in seen:
            continue
        seen.add(id(param))
        total += param.numel()
        if param.requires_grad:
            trainable += param.numel()
    return TrainableCount(trainable, total)


def _no_decay(name: str, param: torch.Tensor) -> bool:
    return param.ndim <= 1 or name.endswith(".bias")


def param_groups(
    model: nn.Module,
    lr: float | Mapping[str, float] | None = None,
    *,
    default_lr: float = 1e-3,
    layer_decay: float | None = None,
    weight_decay: float = 0.0,
    no_decay_1d: bool = True,
    include_frozen: bool = False,
) -> list[dict[str, Any]]:
    """Optimizer parameter groups, one per stage, with per-stage learning rates.

    Args:
        model: a zoo model.
        lr: one learning rate for all, or ``{stage: lr}``; stages it leaves out get
            ``default_lr`` (decayed by ``layer_decay`` when given).
        default_lr: the learning rate of the head, and of every stage ``lr`` omits.
        layer_decay: layer-wise decay: stage ``i`` of ``n`` (the head is last) gets
            ``default_lr * layer_decay ** (n - 1 - i)``; explicit ``lr`` entries win.
        weight_decay: the groups' weight decay.
        no_decay_1d: put biases and normalisation weights (1-D tensors) in separate
            ``"<stage>.no_decay"`` groups with weight decay 0.
        include_frozen: also include parameters with ``requires_grad=False`` (an
            optimizer skips them while they have no gradient; unfreezing them later
            needs no new groups). Default: trainable parameters only.

    Returns:
        a list of ``{"params", "lr", "weight_decay", "name", "stage"}`` dicts, in stage
        order; every selected parameter is in exactly one group; empty groups are left out.

    Raises:
        StageError: ``lr`` names a stage the model does not have.
        TrainError: a ``layer_decay`` outside ``(0, 1]``.

    Example:
        >>> import cnnzoo
        >>> from cnnzoo.train.transfer import param_groups
        >>> groups = param_groups(cnnzoo.create("resnet18"),
        ...                       lr={"stem": 1e-5, "stage4": 1e-4, "head": 1e-3},
        ...                       default_lr=3e-5, no_decay_1d=False)
        >>> [(g["name"], g["lr"]) for g in groups]  # doctest: +NORMALIZE_WHITESPACE
        [('stem', 1e-05), ('stage1', 3e-05), ('stage2', 3e-05), ('stage3', 3e-05),
         ('stage4', 0.0001), ('head', 0.001)]
    """
    model = _unwrap(model)
    order = list(_stage_table(model))
    if isinstance(lr, Mapping):
        _check_stages(model, lr)
        explicit = {k: float(v) for k, v in lr.items()}
    elif lr is None:
        explicit = {}
    else:
        explicit = {s: float(lr) for s in order}
    if layer_decay is not None and not 0.0 < layer_decay <= 1.0:
        raise TrainError(f"layer_decay must be in (0, 1], got {layer_decay}")
    stage_lr = {}
    for i, stage in enumerate(order):
        base = default_lr * (layer_decay ** (len(order) - 1 - i) if layer_decay else 1.0)
        stage_lr[stage] = explicit.get(stage, base)
    owner = stage_of_parameters(model)
    buckets: dict[tuple[str, bool], list[torch.Tensor]] = {}
    seen: set[int] = set()
    for name, param in model.named_parameters():
        if id(param) in seen or not (param.requires_grad or include_frozen):
            continue
        seen.add(id(param))
        key = (owner[name], no_decay_1d and _no_decay(name, param))
        buckets.setdefault(key, []).append(param)
    groups = []
    for stage in order:
        for nd in (False, True):
            params = buckets.get((stage, nd))
            if params:
                groups.append({
                    "params": params,
                    "lr": stage_lr[stage],
                    "weight_decay": 0.0 if nd else weight_decay,
                    "name": f"{stage}.no_decay" if nd else stage,
                    "stage": stage,
                })
    return groups


class ProgressiveUnfreezing(Callback):
    """A :func:`cnnzoo.train.fit` callback: head only → late stages → all.

    At the start of training every stage but the head is frozen; at each milestone
    the next phase is unfrozen. The learning rate of each stage is scaled by
    ``lr_decay`` per stage of distance from the head (discriminative learning rates:
    the head learns fastest, the stem slowest).

    Args:
        phases: the stages trainable in each phase, cumulatively; default
            ``[["head"], <the later half of the backbone stages>, "all"]``.
        milestones: the epochs (0-based) at which phases 2, 3, … begin; default:
            training split evenly across the phases.
        lr_decay: learning-rate factor per stage of distance from the head (``None``
            leaves the optimizer's learning rates as they are).
        bn_eval: keep BatchNorm of frozen stages in eval mode (see :func:`freeze`).

    Raises:
        StageError: a phase names an unknown stage, or the optimizer lacks parameters
            it would unfreeze (at the start of training).
        TrainError: milestones that do not match the phases.

    Example:
        >>> from cnnzoo.train.transfer import ProgressiveUnfreezing
        >>> cb = ProgressiveUnfreezing(milestones=(1, 3), lr_decay=0.5)
    """

    def __init__(
        self,
        phases: Sequence[Sequence[str] | str] | None = None,
        *,
        milestones: Sequence[int] | None = None,
        lr_decay: float | None = 0.5,
        bn_eval: bool = True,
    ) -> None:
        self.phases = None if phases is None else [
            [p] if isinstance(p, str) else list(p) for p in phases]
        self.milestones = None if milestones is None else [int(m) for m in milestones]
        self.lr_decay = lr_decay
        self.bn_eval = bn_eval
        self.phase = -1
        self.log: list[tuple[int, list[str]]] = []

    def _default_phases(self, order: list[str]) -> list[list[str]]:
        backbone = order[:-1]
        late = backbone[len(backbone) // 2:]
        return [[order[-1]], late, ["all"]] if late else [[order[-1]], ["all"]]

    def on_fit_start(self, state: FitState) -> None:
        """Check the phases, freeze everything, scale the learning rates, start phase 1."""
        model = _unwrap(state.model)
        order = list(_stage_table(model))
        if self.phases is None:
            self.phases = self._default_phases(order)
        for phase in self.phases:
            _check_stages(model, [s for s in phase if s != "all"])
        if self.milestones is None:
            n = len(self.phases)
            self.milestones = [round(state.epochs * i / n) for i in range(1, n)]
        if len(self.milestones) != len(self.phases) - 1:
            raise TrainError(f"{len(self.phases)} phases need {len(self.phases) - 1} "
                             f"milestones, got {self.milestones}")
        in_optimizer = {id(p) for g in state.optimizer.param_groups for p in g["params"]}
        missing = [n for n, p in model.named_parameters() if id(p) not in in_optimizer]
        if missing:
            raise StageError(
                f"ProgressiveUnfreezing unfreezes parameters the optimizer does not hold "
                f"({', '.join(missing[:4])}{' …' if len(missing) > 4 else ''}); build the "
                "groups with param_groups(model, include_frozen=True) or let fit() build them"
            )
        freeze(model, until="all", bn_eval=self.bn_eval)
        self.phase = -1
        self.log = []
        if self.lr_decay is not None:
            distance = {s: len(order) - 1 - i for i, s in enumerate(order)}
            for group in state.optimizer.param_groups:
                stage = group.get("stage")
                if stage in distance:
                    base = group.get("initial_lr", group["lr"])
                    group["initial_lr"] = group["lr"] = base * self.lr_decay ** distance[stage]
        self.on_epoch_start(state, 0)  # the first phase's stages train from the start

    def on_epoch_start(self, state: FitState, epoch: int) -> None:
        """Unfreeze the phases whose milestone has come (and tell ``fit`` they changed)."""
        if self.phases is None or self.milestones is None:
            raise TrainError("ProgressiveUnfreezing.on_fit_start() must run first; pass the "
                             "callback to fit(callbacks=[...])")
        target = sum(1 for m in self.milestones if epoch >= m)
        while self.phase < target:
            self.phase += 1
            model = _unwrap(state.model)
            names = self.phases[self.phase]
            unfrozen = unfreeze(model, "all" if "all" in names else names)
            self.log.append((epoch, unfrozen))
            state.trainable_changed()
