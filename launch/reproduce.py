r"""Reproduces one of the paper's tables: runs its grid, writes the table.

  python launch/reproduce.py --table=1 --budget=cpu --seeds=3 \
      --workdir=workdirs/repro [--datasets=fashion_mnist] [--rows=erm,...]

Budgets (wcgen.experiments.registry): `smoke` (each config's `:tiny`
variant: a few steps of tiny models, for tests), `cpu` (the configs'
defaults, minutes per run on 2 cores), `long` (the `:long` variant: 4x
`cpu`, the validation sweeps' budget, up to ~46 min a game run on 2
cores), `paper` (the `:paper` variant: our guess at a GPU-scale budget).

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

import sys

from absl import app
from absl import flags

from wcgen import cli


FLAGS = flags.FLAGS
flags.DEFINE_string("table", None, "The paper's 1, 2, 3, 4 (FID), 5 or fig2d "
                    "(the eps sweep); or a Fashion-MNIST stand-in: 2fm "
                    "(distorted test sets), 5fm (reduced training sets, BN/"
                    "WD ablation), noise (noisy labels).")
flags.DEFINE_enum("budget", "cpu", ["smoke", "cpu", "long", "paper"],
                  "Run length (wcgen/experiments/registry.py).")
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


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  from wcgen.experiments import reproduction  # pylint: disable=g-import-not-at-top

  def run():
    text, written = reproduction.reproduce(reproduction.Request(
        table=FLAGS.table, workdir=FLAGS.workdir, budget=FLAGS.budget,
        seeds=FLAGS.seeds, rows=FLAGS.rows, datasets=FLAGS.datasets,
        columns=FLAGS.columns, data_dir=FLAGS.data_dir,
        tfds_dir=FLAGS.tfds_dir, report_only=FLAGS.report_only,
        generation_metric=FLAGS.generation_metric,
        inception_weights=FLAGS.inception_weights,
        generation_samples=FLAGS.generation_samples,
        command=" ".join(["python", "launch/reproduce.py"] + sys.argv[1:])))
    print(text)
    print("written: " + ", ".join(sorted(written.values())))

  cli.run_or_exit(run)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)
