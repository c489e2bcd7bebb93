"""Errors that stop a run before any work starts, each with a one-line fix.

The launchers catch these and print `error: <message>` on one line (no
traceback), so every message must say what is wrong and what to do.
"""


class WcgenError(Exception):
  """Base class: a problem the user can fix."""


class ConfigError(WcgenError, ValueError):
  """A config value is out of range, of the wrong type, or unknown."""


def check_one_of(field: str, value, known) -> None:
  """ConfigError unless `value` is in `known`; `field` is its dotted name
  in the config (e.g. "model.generator.name")."""
  if value not in known:
    raise ConfigError(f"unknown {field} {value!r}; choose one of "
                      f"{list(known)} with --config.{field}")


def check_positive_int(field: str, value) -> None:
  """ConfigError unless `value` is an int >= 1 (not a bool)."""
  if not isinstance(value, int) or isinstance(value, bool) or value < 1:
    raise ConfigError(f"{field} must be a positive integer, got {value!r}")


class DataError(WcgenError, OSError):
  """A data file is missing, truncated or in the wrong format."""


class DivergedError(WcgenError, FloatingPointError):
  """Training produced non-finite losses; the last checkpoint is intact."""


class StorageError(WcgenError, OSError):
  """Writing to the workdir failed (disk full, quota, I/O error); what was
  written before stays whole, and rerunning the command resumes."""


class Stopped(Exception):
  """A run stopped by a signal (SIGTERM, SIGINT) or a multi-host preemption
  after saving a checkpoint of `step`: not a failure, and rerunning the
  same command continues it. Not a WcgenError: nothing is wrong."""

  def __init__(self, step: int, signal: str, workdir: str):
    super().__init__(f"stopped at step {step} ({signal or 'preempted'}); "
                     f"checkpoint saved in {workdir}")
    self.step, self.signal, self.workdir = step, signal, workdir


def storage_error(what: str, path: str, error: Exception) -> StorageError:
  """The one-line StorageError for a failed write of `what` to `path`."""
  text = str(error)
  if isinstance(error, OSError) and error.strerror:
    reason = error.strerror
  elif "No space left on device" in text:
    reason = "No space left on device"
  else:
    reason = (text.splitlines()[0][:160] if text else type(error).__name__)
  return StorageError(
      f"cannot write {what} to {path} ({reason}); free disk space (or fix "
      "the filesystem) and rerun the same command: it resumes from the last "
      "complete checkpoint")


def is_storage_failure(error: Exception) -> bool:
  """Whether an exception from a write is the filesystem failing. Orbax
  reports a full disk as ValueError('RESOURCE_EXHAUSTED: ... No space left
  on device [os_error_code=...]') from tensorstore."""
  if isinstance(error, OSError):
    return True
  text = str(error)
  return isinstance(error, ValueError) and any(
      s in text for s in ("RESOURCE_EXHAUSTED", "No space left", "os_error_code",
                          "Failed writing"))
