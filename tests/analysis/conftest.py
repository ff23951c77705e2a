"""Fixtures of the analysis tests: torchvision models built once per module."""

from __future__ import annotations

import pytest
import torchvision
from torch import nn

from tests.analysis.helpers import on_meta


@pytest.fixture(scope="module")
def resnet18() -> nn.Module:
    return torchvision.models.resnet18(weights=None)


@pytest.fixture(scope="module")
def vgg16() -> nn.Module:
    return on_meta(lambda: torchvision.models.vgg16(weights=None))
