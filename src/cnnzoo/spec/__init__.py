"""Model specs and the entry-point registry (torch-free)."""

from __future__ import annotations

from cnnzoo.errors import DuplicateModelError, PluginWarning, SpecError, UnknownModelError
from cnnzoo.spec.registry import (
    ENTRY_POINT_GROUP,
    REGISTRY,
    Registry,
    import_object,
    is_model,
    list_models,
    model_info,
)
from cnnzoo.spec.types import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    TASKS,
    WEIGHT_FORMATS,
    WEIGHT_SOURCES,
    FeatureStage,
    ModelSpec,
    Paper,
    Task,
    WeightsSpec,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "REGISTRY",
    "TASKS",
    "WEIGHT_FORMATS",
    "WEIGHT_SOURCES",
    "DuplicateModelError",
    "FeatureStage",
    "ModelSpec",
    "Paper",
    "PluginWarning",
    "Registry",
    "SpecError",
    "Task",
    "UnknownModelError",
    "WeightsSpec",
    "import_object",
    "is_model",
    "list_models",
    "model_info",
]
