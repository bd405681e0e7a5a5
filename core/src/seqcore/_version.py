"""The core's version, kept in one place so that ``seqcore --version`` need not read metadata."""

__version__ = "0.1.0"
