"""The installed cnnzoo version (its own module so any layer may read it)."""

__version__ = "0.2.0"
