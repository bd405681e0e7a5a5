"""The core's own components, loaded through the ``seqcore`` entry point like any plug-in.

Importing this module registers them; ``SEQCORE_DISABLE_PLUGIN_AUTOLOAD=1`` still loads it.
"""
