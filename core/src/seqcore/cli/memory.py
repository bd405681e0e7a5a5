"""How the ``seqcore`` process allocates memory: settings that must be made before torch loads
(or, for glibc's allocator, before the process starts).

A training update allocates and frees a few hundred MiB of activations and gradients, in tensors
whose sizes change with every batch's shape. Two settings make that cheaper:

- :func:`use_huge_pages_for_tensors`: CPU tensors of 2 MiB and more on transparent huge pages,
  fewer page faults (every command).
- :func:`restart_without_malloc_cache`: ``seqcore train`` runs with glibc's per-thread cache of
  freed small blocks turned off (``GLIBC_TUNABLES=glibc.malloc.tcache_count=0``). Cached blocks
  stay allocated where they lie, scattered through the heap between the activations' large
  blocks, so the heap's free space cannot merge back into pieces the next batch's tensors fit
  in, and the heap keeps growing: in bench/bench_train.py's float32 run the peak resident
  memory falls from about 810 to about 710 MiB without it, at the same speed.
"""

from __future__ import annotations

import os
import sys

NO_MALLOC_CACHE = "glibc.malloc.tcache_count=0"

# the commands run in a process restarted without the cache
MEMORY_HUNGRY_COMMANDS = ("train",)


def use_huge_pages_for_tensors() -> None:
    """Ask torch to back CPU tensors of 2 MiB and more with transparent huge pages
    (``THP_MEM_ALLOC_ENABLE``, read once when torch loads; a value the user set wins).

    Training allocates and frees hundreds of MiB of activations per update; with 4 KiB pages
    the kernel faults and zeroes each page every time (about a million faults per 40 updates of
    bench/bench_train.py), with 2 MiB pages about a fifth as many: 3-6% more words per second
    there, the same peak memory. Nothing changes where the kernel has no huge pages."""
    if "torch" not in sys.modules:
        os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")


def is_the_seqcore_program() -> bool:
    """Whether this process runs the ``seqcore`` command (its console script) or
    ``python -m seqcore``."""
    program = os.path.normpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return os.path.basename(program) == "seqcore" or program.endswith(
        os.path.join("seqcore", "__main__.py")
    )


def restart_without_malloc_cache(args: list[str]) -> None:
    """Run this process again (``exec``: same process id, same arguments, same open files) with
    glibc's per-thread cache of small blocks turned off, when ``args`` run a memory-hungry
    command; return without doing anything otherwise.

    glibc reads its tunables only when a process starts, hence the restart; it happens before
    anything heavy is imported, so it costs one Python start-up (tens of milliseconds). Done only
    in the ``seqcore`` program itself (the installed command or ``python -m seqcore``, as torchrun
    starts it), not in a script of one's own that calls :func:`seqcore.cli.main.main` (it would
    run again from its start); not where the C library is not glibc, where the process already
    loaded torch, or where ``GLIBC_TUNABLES`` already says how many blocks to cache (the
    restarted process, or a user's own choice)."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command not in MEMORY_HUNGRY_COMMANDS or "torch" in sys.modules:
        return
    if not is_the_seqcore_program():
        return
    import platform

    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return
    tunables = os.environ.get("GLIBC_TUNABLES", "")
    if "glibc.malloc.tcache_count" in tunables:
        return
    os.environ["GLIBC_TUNABLES"] = f"{tunables}:{NO_MALLOC_CACHE}" if tunables else NO_MALLOC_CACHE
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
    except OSError:  # cannot restart (no executable to run): go on as we are
        os.environ["GLIBC_TUNABLES"] = tunables
        if not tunables:
            del os.environ["GLIBC_TUNABLES"]
