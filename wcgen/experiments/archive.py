"""Copies the small record files of a sweep's finished runs into a tracked
folder, so that the report behind a RESULTS.md table can be printed again
on a fresh clone.

A sweep's workdir (checkpoints, TensorBoard events, sample grids) is too
big to commit and lives in an ignored folder, so a new machine starts
without it: every table RESULTS.md quoted came from runs nobody else can
read back. What the report needs of a run is small text: results.json
(the recorded config, the figures, the commit that ran it), config.json
and metrics.jsonl (the curves). `archive_runs` copies exactly those, for
every run that finished, and `sweep.py --report_only --workdir=ARCHIVE`
then prints the same clean-accuracy table from the archive (the distorted
columns and test reads need checkpoints, which stay behind).

An archived record is never overwritten by a different one: a run of the
same name and seed whose results.json differs stops the copy with a
one-line error, as a sweep refuses a workdir of another config.
"""

import filecmp
import os
from typing import List

from wcgen.core import files
from wcgen.errors import ConfigError

# What a finished run's folder holds that the report and the curves read.
RECORD_FILES = ("results.json", "config.json", "metrics.jsonl")


def finished_run_dirs(workdir: str) -> List[str]:
  """The folders under `workdir` (relative to it) that hold a finished
  run, i.e. a results.json, in sorted order."""
  found = []
  for root, dirs, names in os.walk(workdir):
    dirs.sort()
    if "results.json" in names:
      found.append(os.path.relpath(root, workdir))
      dirs[:] = []  # a run's own subfolders hold no other run
  return found


def archive_runs(workdir: str, archive: str) -> List[str]:
  """Copies RECORD_FILES of every finished run under `workdir` to the same
  relative folder under `archive`, and each sweep summary (*.md at the top
  of `workdir`); returns the runs copied or already there.

  Raises ConfigError, before anything is copied, when `archive` already
  holds another results.json for one of those runs.
  """
  if not os.path.isdir(workdir):
    raise ConfigError(f"--workdir={workdir} is not a folder; give the "
                      "sweep's --workdir")
  runs = finished_run_dirs(workdir)
  for run in runs:
    old = os.path.join(archive, run, "results.json")
    if os.path.exists(old) and not filecmp.cmp(
        old, os.path.join(workdir, run, "results.json"), shallow=False):
      raise ConfigError(f"{os.path.join(archive, run)} holds another "
                        f"finished run than {os.path.join(workdir, run)}; "
                        "archive to a new folder or move the old one away")
  for run in runs:
    for name in RECORD_FILES:
      source = os.path.join(workdir, run, name)
      if os.path.exists(source):
        _copy(source, os.path.join(archive, run, name))
  for name in sorted(os.listdir(workdir)):
    if name.endswith(".md"):
      _copy(os.path.join(workdir, name), os.path.join(archive, name))
  return runs


def _copy(source: str, target: str) -> None:
  """Copies atomically: a reader never sees half a record."""
  os.makedirs(os.path.dirname(target), exist_ok=True)
  with open(source, "rb") as f:
    files.atomic_write_bytes(target, f.read())
