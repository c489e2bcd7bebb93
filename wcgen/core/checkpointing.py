"""Checkpoints with orbax: save every few steps, resume from the latest.

Orbax writes each step into a temporary directory and renames it when the
save is complete, so a run killed mid-save leaves no step that a later
restore would pick. Orbax does not notice a finished step whose bytes were
changed later (a bad disk, a stray write): wcgen records the SHA-256 of
every file of a step once its save is complete (`<step>/wcgen_sha256.json`)
and checks them before restoring; a mismatch is handled like an
unreadable step (warning, moved aside, the previous step restored).
The same record tells a corrupt step from one that is intact but saved by
another config (other shapes, e.g. `--allow_config_change` with another
latent_dim): the latter is refused with a one-line ConfigError and left
where it is, since nothing is wrong with it.
"""

import hashlib
import json
import os
from typing import Any, List, Optional

from absl import logging
import jax
import orbax.checkpoint as ocp

from wcgen.errors import ConfigError
from wcgen.errors import DataError
from wcgen.errors import is_storage_failure
from wcgen.errors import storage_error

PyTree = Any
CHECKSUM_FILE = "wcgen_sha256.json"


def _file_checksums(directory: str) -> dict:
  """{relative path: sha256 hex} of every file under `directory` but the
  checksum record itself."""
  sums = {}
  for root, _, names in os.walk(directory):
    for name in sorted(names):
      full = os.path.join(root, name)
      rel = os.path.relpath(full, directory)
      if rel.startswith(CHECKSUM_FILE):  # the record and its temporaries
        continue
      digest = hashlib.sha256()
      with open(full, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
          digest.update(chunk)
      sums[rel] = digest.hexdigest()
  return sums


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
      # The previous save is complete once orbax has waited for it (it
      # does before any new save): record its checksums first.
      self._manager.wait_until_finished()
      self._record_checksums()
      self._manager.save(step, args=ocp.args.StandardSave(state))
    except (OSError, ValueError) as e:
      if not is_storage_failure(e):
        raise
      raise storage_error(f"the checkpoint of step {step} (or the one before)",
                          os.fspath(self._manager.directory), e) from None

  def _step_dir(self, step: int) -> str:
    return os.path.join(os.fspath(self._manager.directory), str(step))

  def _record_checksums(self) -> None:
    """Writes the checksum file of every finished step that lacks one (the
    primary process only: the hosts of a multi-host run share the
    directory)."""
    if jax.process_index() != 0:
      return
    for step in self._manager.all_steps():
      path = os.path.join(self._step_dir(step), CHECKSUM_FILE)
      if os.path.exists(path):
        continue
      try:
        sums = _file_checksums(self._step_dir(step))
      except FileNotFoundError:  # deleted by max_to_keep meanwhile
        continue
      tmp = f"{path}.{os.getpid()}.tmp"
      with open(tmp, "w") as f:
        json.dump(sums, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
      os.replace(tmp, path)

  def _verify(self, step: int) -> bool:
    """Whether `step`'s files were checked against their recorded
    checksums; raises DataError if one differs (a step without a record,
    e.g. saved by an older wcgen or killed before it was written, is
    restored unchecked: False)."""
    path = os.path.join(self._step_dir(step), CHECKSUM_FILE)
    if not os.path.exists(path):
      logging.info("Checkpoint of step %d has no checksums; restoring it "
                   "unchecked", step)
      return False
    with open(path) as f:
      recorded = json.load(f)
    actual = _file_checksums(self._step_dir(step))
    changed = sorted(k for k in set(recorded) | set(actual)
                     if recorded.get(k) != actual.get(k))
    if changed:
      raise DataError(f"{len(changed)} file(s) differ from their checksums "
                      f"recorded at save time, e.g. {changed[0]}")
    return True

  @property
  def all_steps(self) -> List[int]:
    """The finished steps kept on disk, oldest first."""
    return sorted(self._manager.all_steps())

  def restore(self, step: int, state: PyTree) -> PyTree:
    """The checkpoint of `step` (with `state`'s structure and shardings),
    for reading an earlier step of a run (diagnostics); resuming uses
    `restore_or`. A step whose files differ from their checksums is a
    DataError; nothing is moved."""
    if step not in self._manager.all_steps():
      raise DataError(f"{self._manager.directory} has no checkpoint of step "
                      f"{step}; it keeps {self.all_steps}")
    try:
      self._verify(step)
    except DataError as e:
      raise DataError(f"the checkpoint of step {step} in "
                      f"{self._manager.directory} is corrupt: {e}") from None
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
    return self._manager.restore(step,
                                 args=ocp.args.StandardRestore(abstract))

  def restore_or(self, state: PyTree) -> PyTree:
    """The latest good saved state (with `state`'s shardings), else `state`.

    A finished checkpoint that fails to restore (corrupt or truncated
    files) is skipped with a warning naming its step, and the previous one
    is tried; it is never deleted. A step whose files match their
    checksums but which does not restore into `state` was saved by another
    config: ConfigError, nothing moved. If checkpoints exist but none
    restores, this raises DataError rather than silently starting from
    scratch.
    """
    steps = sorted(self._manager.all_steps(), reverse=True)
    if not steps:
      return state
    abstract = jax.tree.map(ocp.utils.to_shape_dtype_struct, state)
    for step in steps:
      intact = False
      try:
        intact = self._verify(step)
        restored = self._manager.restore(
            step, args=ocp.args.StandardRestore(abstract))
      except Exception as e:  # pylint: disable=broad-except
        if intact:
          raise ConfigError(
              f"the checkpoint of step {step} in {self._manager.directory} "
              "is intact (its files match their checksums) but does not fit "
              "this config's model (it was saved by another config: "
              f"{type(e).__name__}); nothing was moved: run the config it was "
              "saved with, or give this one a new --workdir") from None
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
      self._record_checksums()
    except (OSError, ValueError) as e:
      if not is_storage_failure(e):
        raise
      raise storage_error("the last checkpoint",
                          os.fspath(self._manager.directory), e) from None
    finally:
      self._manager.close()
