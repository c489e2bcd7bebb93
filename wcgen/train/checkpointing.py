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
    self._manager.save(step, args=ocp.args.StandardSave(state))

  def restore_or(self, state: PyTree) -> PyTree:
    """The latest saved state (with `state`'s shardings), else `state`."""
    step = self._manager.latest_step()
    if step is None:
      return state
    logging.info("Restoring checkpoint of step %d from %s", step,
                 self._manager.directory)
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
    return self._manager.restore(step,
                                 args=ocp.args.StandardRestore(abstract))

  def close(self) -> None:
    self._manager.wait_until_finished()
    self._manager.close()
