"""One paper table, end to end: its grid of runs, its generator scores, and
the files it writes (`launch/reproduce.py` is the command-line face of
`reproduce`).

Table 4 scores generators, not classifiers: FID from Inception weights the
user has, or the Fréchet Classifier Distance under an ERM reference
classifier that is trained here first on each dataset's whole balanced
training set.
"""

import dataclasses
import os
import time
from typing import Dict, Optional, Sequence, Tuple

from wcgen.data import sources
from wcgen.errors import ConfigError
from wcgen.eval import generation
from wcgen.experiments import grid
from wcgen.experiments import registry
from wcgen.experiments import report
from wcgen.experiments import tables
from wcgen.core import files
from wcgen.train import trainer


@dataclasses.dataclass(frozen=True)
class Request:
  """What to reproduce: one table, its budget and seeds, and where."""
  table: str
  workdir: str
  budget: str = "cpu"
  seeds: int = 3
  rows: Sequence[str] = ()
  datasets: Sequence[str] = ()
  columns: Sequence[str] = ()
  data_dir: str = ""
  tfds_dir: str = ""
  # Only read finished runs and write the tables; train nothing.
  report_only: bool = False
  # Table 4: "fid" (needs inception_weights) or "fcd".
  generation_metric: str = "fid"
  inception_weights: str = ""
  generation_samples: int = 0  # 0 = the budget's
  # The command line, quoted in the table's notes.
  command: str = ""

  @property
  def extra(self) -> Dict[str, str]:
    """Config overrides of every run (where the data files are)."""
    return {k: v for k, v in (("data.data_dir", self.data_dir),
                              ("data.tfds_dir", self.tfds_dir)) if v}


def check(request: Request) -> tables.Table:
  """The table asked for; ConfigError naming what to choose otherwise."""
  if request.table not in tables.TABLES:
    raise ConfigError(f"unknown table {request.table!r}; choose one of "
                      f"{sorted(tables.TABLES)}")
  if request.budget not in registry.BUDGET_ARGS:
    raise ConfigError(f"unknown budget {request.budget!r}; choose one of "
                      f"{sorted(registry.BUDGET_ARGS)}")
  if request.seeds < 1:
    raise ConfigError(f"--seeds must be >= 1, got {request.seeds}")
  table = tables.TABLES[request.table]
  unknown = sorted(set(request.rows) - {r.id for r in table.rows})
  if unknown:
    raise ConfigError(f"unknown rows {unknown} for table {request.table}; "
                      f"choose from {sorted(r.id for r in table.rows)}")
  unknown = sorted(set(request.columns) - {c.id for c in table.columns})
  if unknown:
    raise ConfigError(f"unknown columns {unknown} for table {request.table}; "
                      f"choose from {sorted(c.id for c in table.columns)}")
  return table


def fcd_references(table: tables.Table, request: Request) -> Dict[str, str]:
  """{dataset: workdir} of an ERM classifier trained on all of each
  dataset's balanced training set (trained now unless finished or
  `report_only`), for the FCD of the table's columns."""
  references = {}
  for _, column, _ in grid.plan(table, [0], request.rows, request.datasets,
                                request.columns):
    if column.dataset in references:
      continue
    try:
      config = registry.base_config(column.dataset, request.budget)
    except LookupError:
      continue  # the grid reports the column as unavailable
    config = grid.cell_config(config, tables.Row("reference", "", {}), column,
                              seed=0, extra=request.extra)
    config.method.name, config.loss.name = "erm", "ce"
    config.data.imbalance_factor, config.data.train_fraction = 1.0, 1.0
    config.data.label_noise, config.data.label_noise_rate = "none", 0.0
    config.data.validation_per_class = 0  # nothing is tuned on it
    d = config.data
    if sources.missing_data(d.name, d.data_dir, d.tfds_dir, d.download):
      continue  # the grid reports the dataset's columns as unavailable
    directory = os.path.join(request.workdir, f"table{table.id}",
                             request.budget, "reference", column.dataset)
    if trainer.finished_results(config, directory) is None:
      if request.report_only:
        continue
      print(f"training the FCD reference classifier on all of "
            f"{column.dataset} in {directory}")
      trainer.train_and_evaluate(config, directory)
    references[column.dataset] = directory
  return references


def generator_scorer(table: tables.Table, request: Request
                     ) -> Tuple[tables.Table,
                                Optional[generation.GeneratorScorer]]:
  """(table, score_fn) for Table 4: FID from the given weights, or FCD under
  reference classifiers (the table relabelled); (table, None) otherwise."""
  if table.metric != "fid":
    return table, None
  samples = (request.generation_samples or
             registry.GENERATION_SAMPLES[request.budget])
  if request.generation_metric == "fid":
    if not request.inception_weights:
      raise ConfigError(
          "table 4 needs FID Inception weights: pass --inception_weights="
          "PATH (pytorch-fid's pt_inception-2015-12-05-6726825d.pth), or "
          "--generation_metric=fcd for the classifier-based FCD")
    return table, generation.GeneratorScorer(
        "fid", samples, generation.inception_feature_fn_for(
            request.inception_weights),
        source=os.path.abspath(request.inception_weights))
  references = fcd_references(table, request)
  return tables.as_fcd(table), generation.GeneratorScorer(
      "fcd", samples, generation.classifier_feature_fn_for(references),
      source=" ".join(f"{k}={os.path.abspath(v)}"
                      for k, v in sorted(references.items())))


def reproduce(request: Request) -> Tuple[str, Dict[str, str]]:
  """Runs (or reads) the table's grid and writes table<N>.md/.csv/.png in
  the workdir; returns (the table as markdown, {kind: path written})."""
  table = check(request)
  files.make_workdir(request.workdir)
  start = time.time()
  table, score_fn = generator_scorer(table, request)
  results, info = grid.run_grid(table, request.budget, range(request.seeds),
                                request.workdir, registry.base_config,
                                request.rows, request.datasets, request.extra,
                                request.columns, score_fn,
                                train=not request.report_only)
  notes = [f"Command: `{request.command}`"] if request.command else []
  notes.append(
      f"Budget `{request.budget}`, seeds 0..{request.seeds - 1}; "
      f"{info['ran']} runs trained now, {info['cached']} read from "
      f"finished runs; summed run wall time "
      f"{info['wall_time_sec'] / 60:.1f} min (this sweep: "
      f"{(time.time() - start) / 60:.1f} min).")
  if info["pending"]:
    notes.append(f"{info['pending']} runs not finished yet (--report_only): "
                 "their cells are left out.")
  if score_fn is not None:
    notes.append(f"{score_fn.metric.upper()} from {score_fn.num_samples} "
                 "generated and as many real images per run.")
  for column, why in sorted(info["unavailable"].items()):
    notes.append(f"Column {column} not run: {why}.")
  # The files show the rows and columns asked for (all by default).
  table = dataclasses.replace(
      table,
      rows=tuple(r for r in table.rows
                 if not request.rows or r.id in request.rows),
      columns=tuple(c for c in table.columns
                    if (not request.datasets or
                        c.dataset in request.datasets) and
                    (not request.columns or c.id in request.columns)))
  text = "\n\n".join(notes)
  written = report.write(table, results, request.workdir, text, info["runs"])
  return report.markdown(table, results, text), written
