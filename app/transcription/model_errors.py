"""The errors of model handling, one module so every part can raise them without import cycles."""

from __future__ import annotations


class ModelError(RuntimeError):
    """A model cannot be used; the message names the file and what to do."""


class ModelTooLarge(ModelError):
    """The model needs more memory than this machine has available."""
