"""Optimizers with PyTorch's names and update rules: ``cnnlab.optim``."""
