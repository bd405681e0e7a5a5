"""Writing output files: a complete file or none, and one line when the disk says no.

Every file seqcore writes (checkpoints and their copies, generate's ``--results-path`` file,
averaged checkpoints) is written through :func:`replacing`: into a temporary file
``.NAME.tmp-PID`` beside its target, flushed, fsync'ed and renamed over the target. preprocess
writes its set of files into a staging folder ``.preprocess-PID-XXXX`` inside ``--destdir`` and
renames them into place at the end, with the same errors and cleanup. A crash, a kill, Ctrl-C or
a full disk at any moment leaves either the new file or the old one, never a part of one. A
write the file system refuses (full, read-only, no permission, over quota) is an
:class:`~seqcore.errors.OutputError` naming the path and the free space left; the guard's own
cleanup never raises.

A run that is killed leaves its temporary file (or preprocess's staging folder,
``.preprocess-PID-XXXX``) behind; :func:`remove_leftovers` deletes those whose process is gone
the next time a command writes into that folder.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from seqcore.errors import OutputError

log = logging.getLogger("seqcore.files")

# torch.save reports a failed write of its zip container as a RuntimeError from these
_TORCH_WRITER_FAILURES = ("inline_container", "PytorchStreamWriter", "file write failed")

TEMP_FILE = re.compile(r"\.(?P<name>.+)\.tmp-(?P<pid>\d+)")
STAGING_FOLDER = re.compile(r"\.preprocess-(?P<pid>\d+)-[A-Za-z0-9_]+")


def temp_path(path: Path) -> Path:
    """The temporary file that becomes ``path``: hidden, beside it, named after this process."""
    return path.with_name(f".{path.name}.tmp-{os.getpid()}")


def staging_prefix() -> str:
    """The name prefix of a staging folder of this process (for ``tempfile.mkdtemp``)."""
    return f".preprocess-{os.getpid()}-"


# -- errors ------------------------------------------------------------------------------------
def os_error_in(exc: BaseException) -> OSError | None:
    """The ``OSError`` behind ``exc``: itself, or one it was raised from or during (torch.save
    wraps the OSError of a full disk into a RuntimeError)."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def is_write_failure(exc: BaseException) -> bool:
    """Whether ``exc``, raised while writing a file, is the file system's refusal."""
    if isinstance(exc, OSError):
        return True
    if isinstance(exc, RuntimeError):
        return os_error_in(exc) is not None or any(
            marker in str(exc) for marker in _TORCH_WRITER_FAILURES
        )
    return False


def free_space(folder: str | os.PathLike) -> str:
    """The space left on ``folder``'s file system (its nearest existing parent's), readable."""
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        return f"{_readable(shutil.disk_usage(folder).free)} free"
    except OSError:
        return "unknown space free"


def output_error(path: str | os.PathLike, exc: BaseException, what: str = "") -> OutputError:
    """The one-line error for a write of ``path`` that failed with ``exc``."""
    os_error = os_error_in(exc)
    reason = (os_error.strerror or str(os_error)) if os_error is not None else "the write failed"
    folder = Path(os.path.abspath(path))
    folder = folder if folder.is_dir() else folder.parent
    label = f"{what} {path}" if what else str(path)
    return OutputError(
        f"cannot write {label}: {reason} ({free_space(folder)} on {folder}); "
        "nothing was written there and earlier files are intact"
    )


def remove_quietly(path: str | os.PathLike) -> None:
    """Delete a file or folder if it is there; a failure to do so is only logged (the cleanup of
    a failed write must not hide why it failed)."""
    if not os.path.lexists(path):
        return  # nothing to do (and a read-only file system would refuse even to try)
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        else:
            os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        log.warning("could not remove %s: %s", path, e.strerror or e)


def fsync_dir(folder: str | os.PathLike) -> None:
    """Make a rename in ``folder`` durable (best effort: not every file system allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# -- writing -----------------------------------------------------------------------------------
@contextlib.contextmanager
def replacing(path: str | os.PathLike, what: str = "") -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it when the block succeeds. On any failure,
    Ctrl-C included, the temporary file is removed and ``path`` is untouched; a refused write
    becomes an :class:`OutputError` (``what`` names the file's role in it, e.g. "checkpoint")."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException as e:
        remove_quietly(tmp)
        if is_write_failure(e):
            raise output_error(path, e, what) from None
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def open_replacing(
    path: str | os.PathLike, mode: str = "w", what: str = "", **kwargs
) -> Iterator[IO]:
    """``open(path, mode)`` through :func:`replacing`: the file appears complete when the block
    ends, or not at all."""
    with replacing(path, what) as tmp, open(tmp, mode, **kwargs) as f:
        yield f
        f.flush()
        os.fsync(f.fileno())


def make_folder(folder: str | os.PathLike, flag: str) -> None:
    """``mkdir -p folder``; a refusal is an :class:`OutputError` naming ``flag``."""
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise OutputError(f"{flag} {folder} exists and is not a folder") from None
        raise OutputError(
            f"{flag} {folder}: cannot create it ({e.strerror or e}; {free_space(folder)})"
        ) from None


# -- Ctrl-C ------------------------------------------------------------------------------------
_held = threading.local()


@contextlib.contextmanager
def ctrl_c_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block is done, then raise KeyboardInterrupt.

    A save is a set of files (a checkpoint, its copies, the pruning of old ones) that must be
    consistent when the run stops; and torch.save turns a KeyboardInterrupt raised while it
    writes into a RuntimeError about its zip container. Nested blocks hold it until the
    outermost one ends. Only the main thread receives signals; elsewhere this does nothing.
    Nor does it where Ctrl-C is ignored (a shell starts its background jobs so): holding it
    would stop a run that ignores it whenever one arrived during a save."""
    if (
        threading.current_thread() is not threading.main_thread()
        or getattr(_held, "on", False)
        or signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    ):
        yield
        return
    received: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    except ValueError:  # not the main interpreter
        yield
        return
    _held.on = True
    try:
        yield
    finally:
        _held.on = False
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


# -- leftovers of killed runs ------------------------------------------------------------------
def process_is_gone(pid: int) -> bool:
    """Whether no process ``pid`` runs on this machine (a process of another user counts as
    running)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    except OverflowError:
        return True
    return False


def remove_leftovers(folder: str | os.PathLike) -> list[str]:
    """Delete the temporary files (``.NAME.tmp-PID``) and staging folders
    (``.preprocess-PID-XXXX``) that killed runs left in ``folder``, once their process is gone;
    says so in one log line. Returns the names removed."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:
        return []
    removed, size = [], 0
    for name in names:
        match = TEMP_FILE.fullmatch(name) or STAGING_FOLDER.fullmatch(name)
        if match is None or not process_is_gone(int(match["pid"])):
            continue
        path = os.path.join(folder, name)
        size += _size_of(path)
        remove_quietly(path)
        if not os.path.lexists(path):
            removed.append(name)
    if removed:
        log.info(
            "removed %d leftover(s) of earlier runs that were killed (%s) from %s: %s",
            len(removed),
            _readable(size),
            folder,
            ", ".join(removed),
        )
    return removed


def _size_of(path: str) -> int:
    try:
        if not os.path.isdir(path):
            return os.path.getsize(path)
        return sum(
            os.path.getsize(os.path.join(root, f))
            for root, _, files in os.walk(path)
            for f in files
        )
    except OSError:
        return 0


def _readable(size: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")
