r"""Reproduces one of the paper's tables: runs its grid, writes the table.

  python launch/reproduce.py --table=1 --budget=cpu --seeds=3 \
      --workdir=workdirs/repro [--datasets=fashion_mnist] [--rows=erm,...]

Budgets (wcgen.experiments.registry): `smoke` (each config's `:tiny`
variant: a few steps of tiny models, for tests), `cpu` (the configs'
defaults, minutes per run on 2 cores), `paper` (the `:paper` variant: our
guess at a GPU-scale budget).

Table 4 scores generators, not classifiers: FID with the Inception weights
you have (`--inception_weights=.../pt_inception-2015-12-05-6726825d.pth`,
pytorch-fid's file; nothing is downloaded), or, without them,
`--generation_metric=fcd`: the Fréchet Classifier Distance under an ERM
classifier that the sweep first trains on each dataset's whole balanced
training set (a different scale: the paper's FIDs are left out).
Runs already finished in --workdir are read, not rerun, and an interrupted
sweep resumes, so the same command can be given again after a kill. Writes
WORKDIR/table<N>.md, .csv and .png (ours: mean ± std over seeds; the
paper's number beside it, labelled as the paper's).
"""

import dataclasses
import os
import sys
import time

from absl import app
from absl import flags

from wcgen import cli
from wcgen.experiments import registry


FLAGS = flags.FLAGS
flags.DEFINE_string("table", None, "1, 2, 3, 4 (FID), 5 or fig2d (the eps "
                    "sweep).")
flags.DEFINE_enum("budget", "cpu", ["smoke", "cpu", "paper"], "Run length.")
flags.DEFINE_integer("seeds", 3, "Training seeds 0..N-1 per cell.")
flags.DEFINE_string("workdir", None, "Where the runs and tables go.")
flags.DEFINE_list("datasets", [], "Only columns of these datasets.")
flags.DEFINE_list("rows", [], "Only these rows (method ids).")
flags.DEFINE_list("columns", [], "Only these columns (ids as in the CSV, "
                  "e.g. fashion_mnist_if100).")
flags.DEFINE_string("data_dir", "", "config.data.data_dir for every run.")
flags.DEFINE_string("tfds_dir", "", "config.data.tfds_dir for every run.")
flags.DEFINE_bool("report_only", False, "Only read finished runs and write "
                  "the tables (e.g. while the sweep runs elsewhere); train "
                  "nothing.")
flags.DEFINE_enum("generation_metric", "fid", ["fid", "fcd"], "Table 4's "
                  "score: FID (needs --inception_weights) or FCD.")
flags.DEFINE_string("inception_weights", "", "Table 4 with FID: path of "
                    "pytorch-fid's pt_inception-2015-12-05-6726825d.pth (or a "
                    ".npz from wcgen.eval.fid.save_npz).")
flags.DEFINE_integer("generation_samples", 0, "Table 4: generated and real "
                     "images per score (0 = the budget's: smoke 64, cpu "
                     "2000, paper 10000 as in the paper).")
flags.mark_flags_as_required(["table", "workdir"])

def generator_scorer(table, extra):
  """(table, score_fn) for Table 4: FID from the given weights, or FCD under
  reference ERM classifiers trained here first; (table, None) otherwise."""
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  from wcgen.data import sources  # pylint: disable=g-import-not-at-top
  from wcgen.eval import generation  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import grid, tables  # pylint: disable=g-import-not-at-top
  from wcgen.train import trainer  # pylint: disable=g-import-not-at-top
  if table.metric != "fid":
    return table, None
  samples = FLAGS.generation_samples or registry.GENERATION_SAMPLES[FLAGS.budget]
  if FLAGS.generation_metric == "fid":
    if not FLAGS.inception_weights:
      raise ConfigError(
          "table 4 needs FID Inception weights: pass --inception_weights="
          "PATH (pytorch-fid's pt_inception-2015-12-05-6726825d.pth), or "
          "--generation_metric=fcd for the classifier-based FCD")
    return table, generation.GeneratorScorer(
        "fid", samples, generation.inception_feature_fn_for(
            FLAGS.inception_weights),
        source=os.path.abspath(FLAGS.inception_weights))
  references = {}
  for _, column, _ in grid.plan(table, [0], FLAGS.rows, FLAGS.datasets,
                                FLAGS.columns):
    if column.dataset in references:
      continue
    try:
      config = registry.base_config(column.dataset, FLAGS.budget)
    except LookupError:
      continue  # the grid reports the column as unavailable
    config = grid.cell_config(config, tables.Row("reference", "", {}), column,
                              seed=0, extra=extra)
    config.method, config.classifier_loss = "erm", "ce"
    config.data.imbalance_factor, config.data.train_fraction = 1.0, 1.0
    config.data.label_noise, config.data.label_noise_rate = "none", 0.0
    config.data.validation_per_class = 0  # nothing is tuned on it
    d = config.data
    if sources.missing_data(d.name, d.data_dir, d.tfds_dir, d.download):
      continue  # the grid reports the dataset's columns as unavailable
    directory = os.path.join(FLAGS.workdir, f"table{table.id}", FLAGS.budget,
                             "reference", column.dataset)
    if trainer.finished_results(config, directory) is None:
      if FLAGS.report_only:
        continue
      print(f"training the FCD reference classifier on all of "
            f"{column.dataset} in {directory}")
      trainer.train_and_evaluate(config, directory)
    references[column.dataset] = directory
  return tables.as_fcd(table), generation.GeneratorScorer(
      "fcd", samples, generation.classifier_feature_fn_for(references),
      source=" ".join(f"{k}={os.path.abspath(v)}"
                      for k, v in sorted(references.items())))


def reproduce(table_id: str):
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import grid, report, tables  # pylint: disable=g-import-not-at-top
  from wcgen.core import files  # pylint: disable=g-import-not-at-top
  if table_id not in tables.TABLES:
    raise ConfigError(f"unknown table {table_id!r}; choose one of "
                      f"{sorted(tables.TABLES)}")
  if FLAGS.seeds < 1:
    raise ConfigError(f"--seeds must be >= 1, got {FLAGS.seeds}")
  table = tables.TABLES[table_id]
  known_rows = {r.id for r in table.rows}
  if set(FLAGS.rows) - known_rows:
    raise ConfigError(f"unknown rows {sorted(set(FLAGS.rows) - known_rows)} "
                      f"for table {table_id}; choose from {sorted(known_rows)}")
  known_columns = {c.id for c in table.columns}
  if set(FLAGS.columns) - known_columns:
    unknown = sorted(set(FLAGS.columns) - known_columns)
    raise ConfigError(f"unknown columns {unknown}"
                      f" for table {table_id}; choose from "
                      f"{sorted(known_columns)}")
  files.make_workdir(FLAGS.workdir)
  extra = {k: v for k, v in (("data.data_dir", FLAGS.data_dir),
                             ("data.tfds_dir", FLAGS.tfds_dir)) if v}
  t = time.time()
  table, score_fn = generator_scorer(table, extra)
  results, info = grid.run_grid(table, FLAGS.budget, range(FLAGS.seeds),
                                FLAGS.workdir, registry.base_config, FLAGS.rows,
                                FLAGS.datasets, extra, FLAGS.columns,
                                score_fn, train=not FLAGS.report_only)
  command = " ".join(["python", "launch/reproduce.py"] + sys.argv[1:])
  notes = [f"Command: `{command}`",
           f"Budget `{FLAGS.budget}`, seeds 0..{FLAGS.seeds - 1}; "
           f"{info['ran']} runs trained now, {info['cached']} read from "
           f"finished runs; summed run wall time "
           f"{info['wall_time_sec'] / 60:.1f} min (this sweep: "
           f"{(time.time() - t) / 60:.1f} min)."]
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
      rows=tuple(r for r in table.rows if not FLAGS.rows or r.id in FLAGS.rows),
      columns=tuple(c for c in table.columns
                    if (not FLAGS.datasets or c.dataset in FLAGS.datasets) and
                    (not FLAGS.columns or c.id in FLAGS.columns)))
  written = report.write(table, results, FLAGS.workdir, "\n\n".join(notes),
                         info["runs"])
  print(report.markdown(table, results, "\n\n".join(notes)))
  print("written: " + ", ".join(sorted(written.values())))


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  cli.run_or_exit(reproduce, FLAGS.table)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)
