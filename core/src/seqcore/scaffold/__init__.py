"""``seqcore new-plugin``: a complete plug-in distribution to start from."""

from seqcore.scaffold.templates import KINDS
from seqcore.scaffold.writer import check_name, compatible_range, plugin_files, write_plugin

__all__ = ["KINDS", "check_name", "compatible_range", "plugin_files", "write_plugin"]
