"""The pluggy markers of the ``seqcore`` project.

Plug-ins decorate their hook implementations with ``@seqcore.hookimpl``; the specifications in
:mod:`seqcore.hookspecs` use ``hookspec``.
"""

import pluggy

PROJECT_NAME = "seqcore"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
