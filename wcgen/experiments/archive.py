"""Copies the small record files of a sweep's finished runs into a tracked
folder, so that the report behind a RESULTS.md table can be printed again
on a fresh clone.

A sweep's workdir (checkpoints, TensorBoard events, sample grids) is too
big to commit and lives in an ignored folder, so a new machine starts
without it: every table RESULTS.md quoted came from runs nobody else can
read back. What the report needs of a run is small text: results.json
(the recorded config, the figures, the commit that ran it), config.json,
metrics.jsonl (the curves), the figures scored after training
(posthoc/*.json: distorted validation copies, and the one reading of the
test set of a configuration chosen on validation, `--final`; with
posthoc/*_correct.npz, the per-image flags of `--paired`, a few KB) and
fidelity.json. `archive_runs` copies exactly those, for every run that
finished, and `sweep.py --report_only --workdir=ARCHIVE` then prints the
same table from the archive, the columns scored after training included
(a column never scored before needs the checkpoints, which stay behind).

An archived record is never overwritten by a different one: a run of the
same name and seed whose results.json differs stops the copy with a
one-line error, as a sweep refuses a workdir of another config.
`sweep.run_sweep(..., archive_dir=DIR)` archives each run as soon as it
finishes, so a sweep stopped part-way (a session that ends, a kill) keeps
the records of every run it finished.
"""

import filecmp
import os
from typing import List, Optional, Sequence

from wcgen.core import files
from wcgen.errors import ConfigError

# What a finished run's folder holds that the report and the curves read
# (posthoc/: wcgen.train.posthoc's kept figures).
RECORD_FILES = ("results.json", "config.json", "metrics.jsonl",
                "fidelity.json")
RECORD_FOLDERS = ("posthoc",)
RECORD_SUFFIXES = (".json", "_correct.npz")


def _records(run: str) -> List[str]:
  """The record files in the finished run folder `run`, relative to it."""
  found = [name for name in RECORD_FILES
           if os.path.exists(os.path.join(run, name))]
  for folder in RECORD_FOLDERS:
    if os.path.isdir(os.path.join(run, folder)):
      found += sorted(os.path.join(folder, name)
                      for name in os.listdir(os.path.join(run, folder))
                      if name.endswith(RECORD_SUFFIXES))
  return found


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


def archive_runs(workdir: str, archive: str,
                 runs: Optional[Sequence[str]] = None, *,
                 summaries: Sequence[str]) -> List[str]:
  """Copies the records of every finished run under `workdir` (or only of
  `runs`, folders relative to it) to the same relative folder under
  `archive`, and the sweep summaries named in `summaries` (*.md at the top
  of `workdir`; a name not there is skipped); returns the runs copied or
  already there.

  The caller names the summaries, with no default that copies every one:
  a sweep names its own only, since another sweep's summary in the same
  workdir can be older than the archive's (a second clone trained that
  sweep's later runs into the same archive), and copying it would put the
  older table back (session 25 saw it happen). A run's records cannot go
  back that way: raises ConfigError, before anything is copied, when
  `archive` already holds another results.json for one of those runs.
  """
  if not os.path.isdir(workdir):
    raise ConfigError(f"--workdir={workdir} is not a folder; give the "
                      "sweep's --workdir")
  if runs is None:
    runs = finished_run_dirs(workdir)
  for run in runs:
    old = os.path.join(archive, run, "results.json")
    if os.path.exists(old) and not filecmp.cmp(
        old, os.path.join(workdir, run, "results.json"), shallow=False):
      raise ConfigError(f"{os.path.join(archive, run)} holds another "
                        f"finished run than {os.path.join(workdir, run)}; "
                        "archive to a new folder or move the old one away")
  for run in runs:
    for name in _records(os.path.join(workdir, run)):
      _copy(os.path.join(workdir, run, name),
            os.path.join(archive, run, name))
  for name in summaries:
    if os.path.isfile(os.path.join(workdir, name)):
      _copy(os.path.join(workdir, name), os.path.join(archive, name))
  return list(runs)


def _copy(source: str, target: str) -> None:
  """Copies atomically: a reader never sees half a record."""
  os.makedirs(os.path.dirname(target), exist_ok=True)
  with open(source, "rb") as f:
    files.atomic_write_bytes(target, f.read())
