"""Checkpoints with orbax: save every few steps, resume from the latest.

Orbax writes each step into a temporary directory and renames it when the
save is complete, so a run killed mid-save leaves no step that a later
restore would pick.
"""

import os
from typing import Any, Optional

from absl import logging
import jax
import orbax.checkpoint as ocp

from wcgen.errors import DataError
from wcgen.errors import is_storage_failure
from wcgen.errors import storage_error

PyTree = Any


class Checkpointer:
  """Thin wrapper over `ocp.CheckpointManager` for one training state."""

  def __init__(self, directory: str, max_to_keep: int = 3):
    self._manager = ocp.CheckpointManager(
        os.path.abspath(directory),
        options=ocp.CheckpointManagerOptions(max_to_keep=max_to_keep,
                                             create=True))

  @property
  def latest_step(self) -> Optional[int]:
    return self._manager.latest_step()

  def save(self, step: int, state: PyTree) -> None:
    """Starts an (async) save of `step`. A failed write, of this save or of
    an earlier one still in flight, is a one-line StorageError; complete
    earlier checkpoints stay as they were."""
    try:
      self._manager.save(step, args=ocp.args.StandardSave(state))
    except (OSError, ValueError) as e:
      if not is_storage_failure(e):
        raise
      raise storage_error(f"the checkpoint of step {step} (or the one before)",
                          os.fspath(self._manager.directory), e) from None

  def restore_or(self, state: PyTree) -> PyTree:
    """The latest good saved state (with `state`'s shardings), else `state`.

    A finished checkpoint that fails to restore (corrupt or truncated
    files) is skipped with a warning naming its step, and the previous one
    is tried; it is never deleted. If checkpoints exist but none restores,
    this raises DataError rather than silently starting from scratch.
    """
    steps = sorted(self._manager.all_steps(), reverse=True)
    if not steps:
      return state
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
    for step in steps:
      try:
        restored = self._manager.restore(
            step, args=ocp.args.StandardRestore(abstract))
      except Exception as e:  # pylint: disable=broad-except
        kept = self._set_aside(step)
        logging.warning("Checkpoint of step %d is unreadable (%s: %s); moved "
                        "to %s (not deleted); trying an earlier one.", step,
                        type(e).__name__,
                        str(e).splitlines()[0][:200] if str(e) else "", kept)
        continue
      logging.info("Restored checkpoint of step %d from %s", step,
                   self._manager.directory)
      return restored
    raise DataError(f"no checkpoint in {self._manager.directory} can be "
                    f"restored (steps {steps}); move that directory away to "
                    "start afresh")

  def _set_aside(self, step: int) -> str:
    """Moves a bad step out of the manager's directory, so that training
    can save that step again, and returns where it went."""
    directory = os.fspath(self._manager.directory)
    aside = os.path.join(os.path.dirname(directory), "checkpoints_unreadable")
    os.makedirs(aside, exist_ok=True)
    target = os.path.join(aside, str(step))
    suffix = 0
    while os.path.exists(target):
      suffix += 1
      target = os.path.join(aside, f"{step}.{suffix}")
    os.rename(os.path.join(directory, str(step)), target)
    self._manager.reload()
    return target

  def reached_preemption(self, step: int) -> bool:
    """Multi-host: whether every host agreed to stop at `step` (orbax)."""
    return self._manager.reached_preemption(step)

  def close(self) -> None:
    """Waits for an in-flight save, then releases the manager."""
    try:
      self._manager.wait_until_finished()
    except (OSError, ValueError) as e:
      if not is_storage_failure(e):
        raise
      raise storage_error("the last checkpoint",
                          os.fspath(self._manager.directory), e) from None
    finally:
      self._manager.close()
