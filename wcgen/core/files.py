"""Result files written so that a kill never leaves half a file."""

import fcntl
import io
import json
import os
import socket
import tempfile
import time
from typing import Any, Dict, List, Tuple

from absl import logging

from wcgen.errors import ConfigError
from wcgen.errors import WcgenError
from wcgen.errors import storage_error


def make_workdir(workdir: str) -> None:
  """Creates `workdir`, or says in one line why it cannot be written."""
  try:
    os.makedirs(workdir, exist_ok=True)
  except OSError as e:
    raise ConfigError(f"cannot create workdir {workdir} ({e.strerror}); "
                      "choose a writable --workdir") from None
  if not os.access(workdir, os.W_OK):
    raise ConfigError(f"workdir {workdir} is not writable; choose a writable "
                      "--workdir")


def remove_empty_workdir(workdir: str) -> None:
  """Removes a workdir that holds nothing but its lock file."""
  try:
    os.remove(os.path.join(workdir, ".lock"))
    os.rmdir(workdir)
  except OSError:
    pass  # something else appeared meanwhile: leave it


def _current_umask() -> int:
  mask = os.umask(0)
  os.umask(mask)
  return mask


_UMASK = _current_umask()


def atomic_write_bytes(path: str, data: bytes) -> None:
  """Writes `data` to a temporary file beside `path`, then renames it.

  A kill or a failed write (disk full) leaves the old file, if any, whole;
  the failure is a one-line StorageError.
  """
  directory = os.path.dirname(os.path.abspath(path))
  tmp = None
  try:
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    # mkstemp makes the file private (0600); give it a normal file's mode.
    os.chmod(tmp, 0o666 & ~_UMASK)
    with os.fdopen(fd, "wb") as f:
      f.write(data)
      f.flush()
      os.fsync(f.fileno())
    os.replace(tmp, path)
  except OSError as e:
    _remove_quietly(tmp)
    raise storage_error(os.path.basename(path), directory, e) from None
  except BaseException:
    _remove_quietly(tmp)
    raise


def atomic_write_figure(fig, path: str, dpi: int = 100,
                        tight: bool = True) -> None:
  """A matplotlib figure as a PNG at `path`, written as atomic_write_bytes
  writes (so a kill never leaves half a picture); `tight` crops it to what
  is drawn."""
  buf = io.BytesIO()
  fig.savefig(buf, format="png", dpi=dpi,
              bbox_inches="tight" if tight else None)
  atomic_write_bytes(path, buf.getvalue())


def _remove_quietly(path) -> None:
  if path and os.path.exists(path):
    try:
      os.remove(path)
    except OSError:
      pass


def atomic_write_json(path: str, obj: Any) -> None:
  atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) +
                            "\n").encode())


def parse_jsonl(path: str) -> Tuple[List[Dict[str, Any]], List[str]]:
  """(rows that are JSON objects, the other non-empty lines)."""
  rows, bad = [], []
  with open(path, errors="replace") as f:
    for line in f:
      try:
        row = json.loads(line)
      except ValueError:
        row = None
      if isinstance(row, dict):
        rows.append(row)
      elif line.strip():
        bad.append(line)
  return rows, bad


def read_jsonl(path: str) -> List[Dict[str, Any]]:
  """Rows of a JSONL file; other lines (a torn last line from a kill,
  garbage) are skipped with a warning that counts them."""
  rows, bad = parse_jsonl(path)
  if bad:
    logging.warning("%s: %d line(s) that are not JSON rows skipped", path,
                    len(bad))
  return rows


class WorkdirBusyError(WcgenError):
  """Another live process holds the workdir."""


class WorkdirLock:
  """Holds `workdir` for one process at a time.

  An exclusive `flock` on WORKDIR/.lock: the kernel drops it when the
  holder exits or is killed, so a killed run never leaves the workdir
  locked, and a second process sharing the workdir (which would interleave
  metrics rows and race on checkpoints) is refused in one line naming the
  holder. Only the chief process of a multi-host run takes it.
  """

  def __init__(self, workdir: str):
    self.path = os.path.join(workdir, ".lock")
    self._fd = None

  def acquire(self) -> "WorkdirLock":
    fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666 & ~_UMASK)
    try:
      fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
      holder = os.read(fd, 512).decode(errors="replace").strip() or "unknown"
      os.close(fd)
      raise WorkdirBusyError(
          f"{os.path.dirname(self.path)} is in use by another wcgen process "
          f"({holder}); wait for it to finish, or stop it, or use another "
          "--workdir") from None
    os.ftruncate(fd, 0)
    os.write(fd, (f"pid {os.getpid()} on {socket.gethostname()} since "
                  f"{time.strftime('%Y-%m-%d %H:%M:%S')}").encode())
    os.fsync(fd)
    self._fd = fd
    return self

  def release(self) -> None:
    if self._fd is not None:
      fcntl.flock(self._fd, fcntl.LOCK_UN)
      os.close(self._fd)
      self._fd = None

  def __enter__(self):
    return self.acquire()

  def __exit__(self, *exc):
    self.release()
