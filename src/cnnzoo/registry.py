"""The import path plugins use: specs, the registry and the error base, re-exported.

``from cnnzoo.registry import ModelSpec, WeightsSpec, FeatureStage, Paper`` keeps
working; the code lives in :mod:`cnnzoo.spec` and :mod:`cnnzoo.errors`.
"""

from __future__ import annotations

from cnnzoo.errors import CnnzooError
from cnnzoo.spec import *  # noqa: F403
from cnnzoo.spec import __all__ as _spec_all

__all__ = ["CnnzooError", *_spec_all]
