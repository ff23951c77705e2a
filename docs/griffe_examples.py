"""A griffe extension for the API reference: treat ``Example:`` like ``Examples:``.

Napoleon's Google style accepts both ``Example:`` and ``Examples:`` for doctest
sections; griffe only parses the plural as an examples section and renders the
singular as an admonition whose ``>>>`` lines become Markdown (nested quotes,
and ``['a', 'b']`` outputs read as cross-references). Renaming the section
heading before griffe parses the docstring renders both as code.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_SINGULAR = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rename ``Example:`` section headings to ``Examples:`` in every docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        docstring = obj.docstring
        if docstring is not None and "Example:" in docstring.value:
            docstring.value = _SINGULAR.sub(r"\1Examples:", docstring.value)
