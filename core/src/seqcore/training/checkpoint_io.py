"""Reading and writing checkpoint files safely.

Writes are atomic: the state goes to a temporary file in the same folder, is flushed and fsync'ed,
and is renamed over the target, so a crash, a kill or a full disk at any moment leaves every
earlier checkpoint intact. Reads use ``torch.load(weights_only=True)``: a file that carries a
pickled object (code that would run on load) is refused without running it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import shutil
import signal
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from seqcore.errors import CheckpointError


def _fsync_dir(folder: Path) -> None:
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


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` that replaces it when the block succeeds; on any
    failure, Ctrl-C included, the temporary file is removed and ``path`` is untouched."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise CheckpointError(
            f"cannot write checkpoint {path}: {e.strerror or e}; earlier checkpoints are intact"
        ) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def _ctrl_c_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block is done, then raise KeyboardInterrupt.

    torch.save turns a KeyboardInterrupt raised while it writes into a RuntimeError about
    positions in its zip container, which would end the run with a traceback instead of
    "interrupted"; a checkpoint takes a moment to write, so it is finished first."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def atomic_save(state: dict[str, Any], path: str | os.PathLike) -> None:
    """Write ``state`` to ``path`` atomically; on failure nothing is left behind. A Ctrl-C
    during the write takes effect once the file is complete."""
    with _ctrl_c_deferred(), _replacing(Path(path)) as tmp, open(tmp, "wb") as f:
        torch.save(state, f)
        f.flush()
        os.fsync(f.fileno())


def atomic_copy(source: str | os.PathLike, target: str | os.PathLike) -> None:
    """Copy the finished file ``source`` to ``target``, replacing it atomically. A real copy,
    not a hard link, so that damage to one file never reaches the others."""
    with _replacing(Path(target)) as tmp, open(source, "rb") as src, open(tmp, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
        dst.flush()
        os.fsync(dst.fileno())


def load_checkpoint_file(path: str | os.PathLike) -> dict[str, Any]:
    """The contents of a seqcore checkpoint, loaded without executing anything."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path}: no such file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else "unsupported content"
        raise CheckpointError(
            f"checkpoint {path} is refused: it holds objects that would run code when loaded "
            f"({first[:200]}); seqcore checkpoints hold plain data only"
        ) from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError) as e:
        raise CheckpointError(
            f"checkpoint {path} is corrupt or truncated ({type(e).__name__}); "
            "use --restore-file to resume from another checkpoint"
        ) from None
    if not isinstance(state, dict) or "model" not in state or "seqcore" not in state:
        raise CheckpointError(f"{path} is not a seqcore checkpoint")
    return state
