"""Configuration: command-line flags and config files derived from components' dataclasses."""

from seqcore.config.component import EmptyConfig, config_name, make_config
from seqcore.config.fields import Component, Option, collect_options
from seqcore.config.files import load_config_file
from seqcore.config.resolve import ALL_SLOTS, ResolvedConfig, Slot, resolve

__all__ = [
    "ALL_SLOTS",
    "Component",
    "EmptyConfig",
    "Option",
    "ResolvedConfig",
    "Slot",
    "collect_options",
    "config_name",
    "load_config_file",
    "make_config",
    "resolve",
]
