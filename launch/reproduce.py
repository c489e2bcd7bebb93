r"""Reproduces one of the paper's tables: runs its grid, writes the table.

  python launch/reproduce.py --table=1 --budget=cpu --seeds=3 \
      --workdir=workdirs/repro [--datasets=fashion_mnist] [--rows=erm,...]

Budgets: `smoke` (each config's `:tiny` variant: a few steps of tiny
models, for tests), `cpu` (the configs' defaults, minutes per run on 2
cores), `paper` (the `:paper` variant: our guess at a GPU-scale budget).
Runs already finished in --workdir are read, not rerun, and an interrupted
sweep resumes, so the same command can be given again after a kill. Writes
WORKDIR/table<N>.md, .csv and .png (ours: mean ± std over seeds; the
paper's number beside it, labelled as the paper's).
"""

import os
import sys
import time

from absl import app
from absl import flags

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # pylint: disable=g-import-not-at-top,wrong-import-position

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLAGS = flags.FLAGS
flags.DEFINE_string("table", None, "1, 2, 3, 5 or fig2d (the eps sweep); 4 "
                    "(FID) is not available yet.")
flags.DEFINE_enum("budget", "cpu", ["smoke", "cpu", "paper"], "Run length.")
flags.DEFINE_integer("seeds", 3, "Training seeds 0..N-1 per cell.")
flags.DEFINE_string("workdir", None, "Where the runs and tables go.")
flags.DEFINE_list("datasets", [], "Only columns of these datasets.")
flags.DEFINE_list("rows", [], "Only these rows (method ids).")
flags.DEFINE_list("columns", [], "Only these columns (ids as in the CSV, "
                  "e.g. fashion_mnist_if100).")
flags.DEFINE_string("data_dir", "", "config.data.data_dir for every run.")
flags.DEFINE_string("tfds_dir", "", "config.data.tfds_dir for every run.")
flags.mark_flags_as_required(["table", "workdir"])

# The config file of each dataset; datasets without one are reported as
# unavailable in the table instead of failing the sweep.
CONFIG_FILES = {"mnist": "mnist_wgan", "fashion_mnist": "fmnist_wgan",
                "cifar10": "cifar_wgan", "svhn_cropped": "svhn_wgan"}
BUDGET_ARGS = {"smoke": "tiny", "cpu": "", "paper": "paper"}


def base_config(dataset: str, budget: str):
  """The dataset's config file at the budget; LookupError if none."""
  import importlib  # pylint: disable=g-import-not-at-top
  name = CONFIG_FILES[dataset]
  if not os.path.exists(os.path.join(REPO, "configs", name + ".py")):
    raise LookupError(f"configs/{name}.py does not exist yet")
  if REPO not in sys.path:
    sys.path.insert(0, REPO)
  module = importlib.import_module(f"configs.{name}")
  return module.get_config(BUDGET_ARGS[budget])


def reproduce(table_id: str):
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  from wcgen.experiments import grid, report, tables  # pylint: disable=g-import-not-at-top
  from wcgen.train import files  # pylint: disable=g-import-not-at-top
  if table_id in tables.PENDING:
    raise ConfigError(f"table {table_id} {tables.PENDING[table_id]}; "
                      f"available: {sorted(tables.TABLES)}")
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
  results, info = grid.run_grid(table, FLAGS.budget, range(FLAGS.seeds),
                                FLAGS.workdir, base_config, FLAGS.rows,
                                FLAGS.datasets, extra, FLAGS.columns)
  command = " ".join(["python", "launch/reproduce.py"] + sys.argv[1:])
  notes = [f"Command: `{command}`",
           f"Budget `{FLAGS.budget}`, seeds 0..{FLAGS.seeds - 1}; "
           f"{info['ran']} runs trained now, {info['cached']} read from "
           f"finished runs; summed run wall time "
           f"{info['wall_time_sec'] / 60:.1f} min (this sweep: "
           f"{(time.time() - t) / 60:.1f} min)."]
  for column, why in sorted(info["unavailable"].items()):
    notes.append(f"Column {column} not run: {why}.")
  written = report.write(table, results, FLAGS.workdir, "\n\n".join(notes))
  print(report.markdown(table, results, "\n\n".join(notes)))
  print("written: " + ", ".join(sorted(written.values())))


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  common.setup()
  common.run_or_exit(reproduce, FLAGS.table)


if __name__ == "__main__":
  app.run(main, flags_parser=common.parse_flags)
