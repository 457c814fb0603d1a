"""Reproduce the lecture's reported results from the recipes in ``cnnlab/recipes/``."""

from .recipes import Recipe, load_recipes
from .runner import RowResult, reproduce

__all__ = ["Recipe", "RowResult", "load_recipes", "reproduce"]
