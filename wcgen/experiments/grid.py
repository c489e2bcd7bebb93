"""Runs a table's grid of configs, skipping runs already finished.

Run (row, column, seed) of a budget lives in
WORKDIR/table<id>/<budget>/<row>/<column>/seed<s>; a run with results.json
is read, not rerun, but only when the config it records equals the cell's
(otherwise the sweep stops with one line naming the differing fields: a
table never shows a run of another config). A run interrupted half-way
resumes from its checkpoint (the driver does that), so an interrupted sweep
continues where it stopped when the same command is given again.
"""

import os
from typing import Callable, Dict, Iterable, List, Optional, Tuple

from absl import logging
import ml_collections
import tqdm

from wcgen.data import sources
from wcgen.experiments.report import Results
from wcgen.experiments.tables import Column, Row, Table
from wcgen.train import posthoc
from wcgen.train import trainer

# (dataset, budget) -> base config; raises LookupError when wcgen has none.
BaseConfigFn = Callable[[str, str], ml_collections.ConfigDict]


def cell_config(base: ml_collections.ConfigDict, row: Row, column: Column,
                seed: int,
                extra: Optional[Dict] = None) -> ml_collections.ConfigDict:
  """The base config with the column's, the row's and `extra` overrides,
  and the training seed (the data subset's seed stays fixed, so seeds vary
  training over one fixed bad data set)."""
  config = base.copy_and_resolve_references()
  config.update_from_flattened_dict(
      {**column.overrides, **row.overrides, **(extra or {}), "seed": seed})
  return config


def run_dir(workdir: str, table: Table, row: Row, column: Column,
            seed: int, budget: str) -> str:
  """A cell's training run (shared by the columns that differ only in
  their test set)."""
  return os.path.join(workdir, f"table{table.id}", budget, row.id,
                      column.run_id, f"seed{seed}")


def plan(table: Table, seeds: Iterable[int], rows: Optional[List[str]] = None,
         datasets: Optional[List[str]] = None,
         columns: Optional[List[str]] = None
         ) -> List[Tuple[Row, Column, int]]:
  """Cells to run: implemented rows x columns, each optionally filtered
  (by row id, by dataset, by column id), x seeds."""
  return [(r, c, s) for c in table.columns
          if (not datasets or c.dataset in datasets) and
          (not columns or c.id in columns)
          for r in table.rows
          if r.overrides is not None and (not rows or r.id in rows)
          for s in seeds]


def run_grid(table: Table, budget: str, seeds: Iterable[int], workdir: str,
             base_config: BaseConfigFn, rows: Optional[List[str]] = None,
             datasets: Optional[List[str]] = None,
             extra: Optional[Dict] = None,
             columns: Optional[List[str]] = None,
             score_fn: Optional[Callable[[str], float]] = None,
             train: bool = True) -> Tuple[Results, Dict]:
  """Runs (or reads) every cell; returns (results, info) where info holds
  wall times, runs done and the columns skipped, with why: no config for
  their dataset, or its files are not on this machine (the message names
  them; the other columns still run).

  A cell's value is its results.json entry `column.metric or table.metric`,
  or, when `score_fn` is given, score_fn(run directory) (e.g. the FID of
  the run's generator, wcgen.eval.generation), or, for a column with
  `test_only` overrides, the run of its `trained_as` column scored on that
  test set (wcgen.train.posthoc; each training run counts once in the wall
  time and the runs done). With `train=False` only finished runs are read
  (info["pending"] counts the others): a report of a sweep still running
  elsewhere."""
  results: Results = {}
  # runs: {row id: {column id: [each seed's results.json]}}
  info = {"wall_time_sec": 0.0, "ran": 0, "cached": 0, "unavailable": {},
          "runs": {}, "pending": 0}
  cells = plan(table, list(seeds), rows, datasets, columns)
  missing: Dict[str, Optional[str]] = {}  # dataset -> why it can't load
  counted = set()  # training runs already in the wall time and counts
  progress = tqdm.tqdm(cells, desc=f"table {table.id} ({budget})", unit="run")
  for row, column, seed in progress:
    progress.set_postfix_str(f"{row.id} {column.id} seed {seed}")
    try:
      base = base_config(column.dataset, budget)
    except LookupError as e:
      info["unavailable"][column.id] = str(e)
      continue
    directory = run_dir(workdir, table, row, column, seed, budget)
    config = cell_config(base, row, column, seed, extra)
    # Raises on a results.json of another config; None if unfinished.
    finished = trainer.finished_results(config, directory)
    if column.dataset not in missing:
      d = config.data
      missing[column.dataset] = sources.missing_data(
          d.name, d.data_dir, d.tfds_dir, d.download)
      if missing[column.dataset]:
        logging.warning("skipping the %s columns: %s", column.dataset,
                        missing[column.dataset])
    if missing[column.dataset] and finished is None:
      info["unavailable"][column.id] = missing[column.dataset]
      continue
    if finished is not None:
      result = finished
      info["cached"] += directory not in counted
    elif not train:
      info["pending"] += 1
      continue
    else:
      # A stopped run (errors.Stopped) stops the sweep; the same command
      # resumes it.
      result = trainer.train_and_evaluate(config, directory)
      info["ran"] += 1
    if directory not in counted:
      info["wall_time_sec"] += result.wall_time_sec_this_process
      counted.add(directory)
    if score_fn is not None:
      value = score_fn(directory)
    elif column.test_only:
      value = posthoc.score_distorted(directory, [column.test_only])[0][
          "accuracy"]
    else:
      value = result.metric(column.metric or table.metric)
    logging.info("%s %s seed %d: %s %.4f", row.id, column.id, seed,
                 table.metric, value)
    results.setdefault(row.id, {}).setdefault(column.id, []).append(value)
    info["runs"].setdefault(row.id, {}).setdefault(column.id, []).append(
        result)
  return results, info
