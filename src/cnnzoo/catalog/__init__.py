"""Specs of cnnzoo's built-in families: the targets of its ``cnnzoo.models`` entry points.

These modules are torch-free: reading them costs microseconds and imports no
builder. Each exposes ``SPECS``, a tuple of :class:`~cnnzoo.registry.ModelSpec`.
"""
