"""seqcore plug-in: the ``adam`` optimizer (importing it registers the optimizer)."""

from seqcore_adam.adam import Adam, AdamConfig

__all__ = ["Adam", "AdamConfig"]
