"""Configuration: command-line flags and config files derived from components' dataclasses."""

from seqcore.config.component import EmptyConfig, config_name, make_config

__all__ = ["EmptyConfig", "config_name", "make_config"]
