"""Datasets and data loaders: ``cnnlab.utils.data``."""
