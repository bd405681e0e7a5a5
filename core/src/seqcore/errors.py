"""Typed user errors.

Every mistake a user can make (a bad flag, an unknown component name, a broken plug-in, a malformed
file) is raised as a subclass of :class:`SeqcoreError`. The command line prints such an error as
one line, ``seqcore: error: <message>``, and exits with status 1, without a traceback; any other
exception is a bug in seqcore or a plug-in and keeps its traceback.
"""


class SeqcoreError(Exception):
    """A user error whose message alone says what is wrong and where."""

    exit_code = 1


class ConfigError(SeqcoreError):
    """A configuration value, flag or config file that cannot be used."""


class UnknownComponentError(SeqcoreError):
    """A component name (``--arch``, ``--task``, ...) that no loaded plug-in registered."""


class RegistrationError(SeqcoreError):
    """Two different objects registered under one name, or a malformed registration."""


class PluginLoadError(SeqcoreError):
    """A plug-in that failed to import (fatal only with ``--strict-plugins``)."""


class HookError(SeqcoreError):
    """A plug-in's hook implementation raised while seqcore called it (training stops cleanly)."""


class DataError(SeqcoreError):
    """Input data (text, dictionaries, binarized datasets) that is unreadable or inconsistent."""


class CheckpointError(SeqcoreError):
    """A checkpoint that is missing, corrupt, unsafe or needs a component that is not installed."""


class OutputError(SeqcoreError):
    """An output file or folder that the file system refuses to write (full, read-only, no
    permission, over quota)."""
