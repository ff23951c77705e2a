"""The docs site, built once per test session and shared by every docs test module."""

from __future__ import annotations

import os

import pytest

from tests.docs.helpers import Build, build_once


@pytest.fixture(scope="session")
def docs_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """``mkdocs build --strict`` of this checkout, run once per session (xdist included).

    Under xdist every worker has its own base temporary directory; their common parent
    belongs to this session, so the site is built there once, under a file lock.
    """
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocs_gen_files")
    pytest.importorskip("mkdocstrings_handlers.python")
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent
    return build_once(shared)
