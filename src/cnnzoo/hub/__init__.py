"""Saving models in the cnnzoo Hub format and publishing them to the Hugging Face Hub."""

from __future__ import annotations

from cnnzoo.errors import HubFormatError
from cnnzoo.hub.publish import (
    TIMM_CFG_FIELDS,
    model_card,
    model_config,
    push_folder,
    push_to_hub,
    save_pretrained,
)

__all__ = [
    "TIMM_CFG_FIELDS",
    "HubFormatError",
    "model_card",
    "model_config",
    "push_folder",
    "push_to_hub",
    "save_pretrained",
]
