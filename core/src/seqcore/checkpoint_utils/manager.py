"""Which checkpoint files a run writes and keeps, with fairseq's names and retention rules.

- ``checkpointN.pt`` at the end of epoch N (every ``--save-interval`` epochs, unless
  ``--no-epoch-checkpoints``); ``checkpoint_E_U.pt`` every ``--save-interval-updates`` updates;
- ``checkpoint_best.pt`` when the validation metric improves, and
  ``checkpoint.best_<metric>_<score>.pt`` for the ``--keep-best-checkpoints`` best;
- ``checkpoint_last.pt`` every time, unless ``--no-last-checkpoints``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from seqcore.checkpoint_utils.files import atomic_copy, atomic_save
from seqcore.errors import CheckpointError
from seqcore.safe_files import ctrl_c_held, remove_leftovers, remove_quietly


class CheckpointManager:
    """Names, writes and prunes the checkpoints of one run (on rank 0)."""

    def __init__(self, cfg: Any, is_master: bool = True) -> None:
        self.cfg = cfg
        self.save_dir = Path(cfg.save_dir)
        self.is_master = is_master
        self.best: float | None = None

    def prepare(self) -> None:
        """Create ``--save-dir`` and make sure it can be written, before training starts."""
        if self.cfg.no_save or not self.is_master:
            return
        try:
            self.save_dir.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CheckpointError(
                f"--save-dir {self.save_dir}: cannot create it ({e.strerror})"
            ) from None
        if not os.access(self.save_dir, os.W_OK | os.X_OK):
            raise CheckpointError(f"--save-dir {self.save_dir} is not writable")
        remove_leftovers(self.save_dir)

    def is_better(self, value: float, than: float | None) -> bool:
        if than is None:
            return True
        return value > than if self.cfg.maximize_best_checkpoint_metric else value < than

    def names_for(
        self, epoch: int, num_updates: int, end_of_epoch: bool, metric: float | None
    ) -> list[str]:
        cfg = self.cfg
        names = []
        if end_of_epoch and not cfg.no_epoch_checkpoints and epoch % cfg.save_interval == 0:
            names.append(f"checkpoint{epoch}.pt")
        if (
            not end_of_epoch
            and cfg.save_interval_updates > 0
            and num_updates % cfg.save_interval_updates == 0
        ):
            names.append(f"checkpoint_{epoch}_{num_updates}.pt")
        if metric is not None and self.is_better(metric, self.best):
            names.append("checkpoint_best.pt")
        if metric is not None and cfg.keep_best_checkpoints > 0:
            names.append(f"checkpoint.best_{cfg.best_checkpoint_metric}_{metric:.3f}.pt")
        if not cfg.no_last_checkpoints:
            names.append("checkpoint_last.pt")
        return names

    def save(
        self,
        state: dict[str, Any],
        epoch: int,
        num_updates: int,
        end_of_epoch: bool,
        metric: float | None,
    ) -> list[Path]:
        """Write ``state`` under every name due now, then prune; returns the paths written.

        Ctrl-C is held back until all of it is done, so that an interrupted run always finds
        the files of its last save complete and consistent (``checkpoint_last.pt`` included)."""
        names = self.names_for(epoch, num_updates, end_of_epoch, metric)
        if metric is not None and self.is_better(metric, self.best):
            self.best = metric
        if self.cfg.no_save or not self.is_master or not names:
            return []  # (no name due: e.g. --no-last-checkpoints and the metric did not improve)
        state.setdefault("extra_state", {})["best"] = self.best
        paths = [self.save_dir / name for name in names]
        with ctrl_c_held():
            atomic_save(state, paths[0])
            for path in paths[1:]:
                atomic_copy(paths[0], path)
            self.prune()
        return paths

    def prune(self) -> None:
        cfg = self.cfg
        if cfg.keep_interval_updates > 0:
            self._keep_newest(r"checkpoint_\d+_(\d+)\.pt", cfg.keep_interval_updates)
        if cfg.keep_last_epochs > 0:
            self._keep_newest(r"checkpoint(\d+)\.pt", cfg.keep_last_epochs)
        if cfg.keep_best_checkpoints > 0:
            pattern = rf"checkpoint\.best_{re.escape(cfg.best_checkpoint_metric)}_(-?[\d.]+)\.pt"
            found = self._matching(pattern, float)
            found.sort(reverse=cfg.maximize_best_checkpoint_metric)
            for _, path in found[cfg.keep_best_checkpoints :]:
                remove_quietly(path)

    def _matching(self, pattern: str, kind=int) -> list[tuple[Any, Path]]:
        regex = re.compile(pattern)
        found = []
        for path in self.save_dir.iterdir():
            m = regex.fullmatch(path.name)
            if m:
                found.append((kind(m.group(1)), path))
        return found

    def _keep_newest(self, pattern: str, keep: int) -> None:
        found = sorted(self._matching(pattern), reverse=True)
        for _, path in found[keep:]:
            remove_quietly(path)

    def restore_path(self) -> Path | None:
        """The checkpoint to resume from: ``--restore-file`` as a path, else as a name in
        ``--save-dir``; the default ``checkpoint_last.pt`` only when it exists, any other file
        must exist (fairseq starts afresh instead, which hides a mistyped path)."""
        name = self.cfg.restore_file
        candidates = [Path(name)]
        if not Path(name).is_absolute():
            candidates.append(self.save_dir / name)
        for path in candidates:
            if path.exists():
                return path
        if name != "checkpoint_last.pt":
            looked = " nor ".join(str(p) for p in candidates)
            either = "neither " if len(candidates) > 1 else ""
            raise CheckpointError(
                f"--restore-file {name}: no such checkpoint ({either}{looked} exists)"
            )
        return None
