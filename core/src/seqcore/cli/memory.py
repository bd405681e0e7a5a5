"""How the ``seqcore train`` process allocates memory: glibc's allocator, set up before the
process starts.

A training update allocates and frees a few hundred MiB of activations and gradients, in tensors
whose sizes change with every batch's shape. glibc's defaults suit that poorly in two ways, and
:func:`restart_with_training_allocator` runs ``seqcore train`` with three tunables
(:data:`TRAINING_ALLOCATOR`) that fix them:

- ``glibc.malloc.tcache_count=0``: no per-thread cache of freed small blocks. Cached blocks stay
  allocated where they lie, scattered through the heap between the activations' large blocks, so
  the heap's free space cannot merge back into pieces the next batch's tensors fit in, and the
  heap keeps growing (bench/bench_train.py's float32 run: peak resident memory about 810 ->
  710 MiB, at the same speed).
- ``glibc.malloc.trim_threshold`` (the largest value) and ``glibc.malloc.mmap_threshold=32 MiB``:
  freed memory stays in the heap for the next update instead of going back to the kernel, which
  would fault it in and zero it again (about 4,000 page faults, 60 ms of system time, per update
  of the bench's run). The peak is the same either way (it is the heap's largest extent); the run
  is 2-3% faster, and with no faults left torch's transparent huge pages
  (``THP_MEM_ALLOC_ENABLE``, which made the faults fewer) are not asked for: they only held
  partly used 2 MiB pages (peak 724 -> 646 MiB, the largest of four runs each; bench/RESULTS.md).
"""

from __future__ import annotations

import os
import sys

# glibc tunables for a training process, with the legacy environment variable that sets the same
# thing (a value the user gives either way wins)
TRAINING_ALLOCATOR: dict[str, tuple[str, str | None]] = {
    "glibc.malloc.tcache_count": ("0", None),
    "glibc.malloc.trim_threshold": (str(2**63 - 1), "MALLOC_TRIM_THRESHOLD_"),
    "glibc.malloc.mmap_threshold": (str(32 * 2**20), "MALLOC_MMAP_THRESHOLD_"),
}

# the commands run in a process restarted with TRAINING_ALLOCATOR
MEMORY_HUNGRY_COMMANDS = ("train",)


def training_tunables(given: str = "") -> str:
    """``GLIBC_TUNABLES`` for a training process: ``given`` (the user's) with each setting of
    :data:`TRAINING_ALLOCATOR` it does not make already (nor its environment variable)."""
    settings = [item for item in given.split(":") if item]
    for name, (value, variable) in TRAINING_ALLOCATOR.items():
        named = any(item.split("=", 1)[0] == name for item in settings)
        if not named and not (variable and variable in os.environ):
            settings.append(f"{name}={value}")
    return ":".join(settings)


def is_the_seqcore_program() -> bool:
    """Whether this process runs the ``seqcore`` command (its console script) or
    ``python -m seqcore``."""
    program = os.path.normpath(sys.argv[0]) if sys.argv and sys.argv[0] else ""
    return os.path.basename(program) == "seqcore" or program.endswith(
        os.path.join("seqcore", "__main__.py")
    )


def restart_with_training_allocator(args: list[str]) -> None:
    """Run this process again (``exec``: same process id, same arguments, same open files) with
    glibc's allocator set up for training (:func:`training_tunables`), when ``args`` run a
    memory-hungry command; return without doing anything otherwise.

    glibc reads its tunables only when a process starts, hence the restart; it happens before
    anything heavy is imported, so it costs one Python start-up (tens of milliseconds). Done only
    in the ``seqcore`` program itself (the installed command or ``python -m seqcore``, as torchrun
    starts it), not in a script of one's own that calls :func:`seqcore.cli.main.main` (it would
    run again from its start); not where the C library is not glibc, where the process already
    loaded torch, or where ``GLIBC_TUNABLES`` already holds every setting (the restarted process,
    or a user's own choice)."""
    command = next((a for a in args if not a.startswith("-")), None)
    if command not in MEMORY_HUNGRY_COMMANDS or "torch" in sys.modules:
        return
    if not is_the_seqcore_program():
        return
    import platform

    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        return
    given = os.environ.get("GLIBC_TUNABLES", "")
    wanted = training_tunables(given)
    if wanted == given:
        return
    os.environ["GLIBC_TUNABLES"] = wanted
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])
    except OSError:  # cannot restart (no executable to run): go on as we are
        os.environ["GLIBC_TUNABLES"] = given
        if not given:
            del os.environ["GLIBC_TUNABLES"]
