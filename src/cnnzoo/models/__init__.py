"""Builders of cnnzoo's built-in families (imported only when a model is built)."""
