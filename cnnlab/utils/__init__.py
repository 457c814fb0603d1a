"""Utilities: ``cnnlab.utils.data`` (datasets and loaders)."""
