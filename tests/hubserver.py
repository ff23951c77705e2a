"""Moved to ``tests/hub/hubserver.py``.

This re-export only keeps ``from .hubserver import …`` working in test modules not yet
updated; use the shared ``hub`` fixture (``tests/conftest.py``) or
``from tests.hub.hubserver import …`` instead. Delete once nothing imports it.
"""

from tests.hub.hubserver import *  # noqa: F403
from tests.hub.hubserver import __all__  # noqa: F401
