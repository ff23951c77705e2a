"""Transitional alias: ``get_method`` moved to :mod:`cnnzoo.interpret.methods`.

Kept only for ``cnnzoo.cli.explain``, which still imports it from here; remove this
module once the CLI imports ``from cnnzoo.interpret.methods import get_method``.
"""

from __future__ import annotations

from cnnzoo.interpret.methods import get_method

__all__ = ["get_method"]
