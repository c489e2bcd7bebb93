"""Which tree of the code produced a run: recorded in its results.json so
that a number in docs/RESULTS.md can name its commit from the run itself,
not from the memory of whoever ran it."""

import functools
import os
import subprocess
from typing import Optional

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Tracked files that cannot change what a run computes: the documents,
# and the run records a sweep archives there as it goes (docs/runs/), which
# would otherwise mark every later run of the same sweep "+dirty".
_NOT_CODE = (":(exclude)docs", ":(exclude)*.md")


def _git(*args: str) -> Optional[str]:
  try:
    out = subprocess.run(["git", "-C", _PACKAGE_DIR, *args],
                         capture_output=True, text=True, timeout=30)
  except (OSError, subprocess.SubprocessError):
    return None
  return out.stdout.strip() if out.returncode == 0 else None


@functools.lru_cache(maxsize=None)
def describe() -> Optional[str]:
  """The commit of the checkout that holds the wcgen package, with
  "+dirty" when tracked files other than documents (docs/, *.md) differ
  from it; None when the package is not in a git checkout (e.g. installed
  from a wheel) or git is missing.
  Computed once per process, at the first call: the trainer calls it when
  a run starts, so that a commit made during a long run (or between two
  runs of one sweep process, which loaded its code at its start) is not
  named as the code that ran it."""
  commit = _git("rev-parse", "HEAD")
  if not commit:
    return None
  changed = _git("status", "--porcelain", "--untracked-files=no", "--",
                 ".", *_NOT_CODE)
  return commit + ("+dirty" if changed else "")
