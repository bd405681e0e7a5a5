"""seqcore: a fairseq-style sequence-modeling toolkit whose every component is a plug-in.

Importing this package imports neither torch nor any plug-in; the kinds of component live in
``seqcore.models``, ``seqcore.criterions``, ``seqcore.tasks``, ``seqcore.optim`` and
``seqcore.optim.lr_scheduler``.
"""

from seqcore._version import __version__
from seqcore.errors import SeqcoreError
from seqcore.markers import hookimpl, hookspec

__all__ = ["SeqcoreError", "__version__", "hookimpl", "hookspec"]
