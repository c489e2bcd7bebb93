r"""Did a run's accuracy change because of its weights or because of its
BatchNorm running statistics?

  python launch/batch_norm_check.py --workdir=RUN [--batches=100] \
      [--split=validation]

For every checkpoint the run keeps, the classifier's accuracy with its
stored running statistics and with statistics recomputed over --batches
real training batches with the weights fixed ("precise BN"), the relative
difference of the two, the running variances and the parameter norms.
Prints a table and writes RUN/batch_norm_check.json. See
wcgen/eval/batch_norm.py for why.
"""

import os

from absl import app
from absl import flags

from wcgen import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "A run of launch/main.py with "
                    "checkpoints (a classifier with BatchNorm).")
flags.DEFINE_integer("batches", 100, "Training batches the statistics are "
                     "recomputed over.")
flags.DEFINE_enum("split", "validation", ["validation", "test"],
                  "Where accuracy is read (validation unless the run has "
                  "none: choices are never made on test).")
flags.mark_flags_as_required(["workdir"])


def check():
  from wcgen.core import files  # pylint: disable=g-import-not-at-top
  from wcgen.eval import batch_norm  # pylint: disable=g-import-not-at-top
  if FLAGS.batches < 1:
    raise app.UsageError("--batches must be at least 1")
  rows = batch_norm.check_run(FLAGS.workdir, FLAGS.batches, FLAGS.split)
  files.atomic_write_json(
      os.path.join(FLAGS.workdir, "batch_norm_check.json"),
      {"batches": FLAGS.batches, "split": FLAGS.split, "steps": rows})
  print(f"{'step':>6}  {FLAGS.split} acc: stored stats  recomputed  "
        "largest stats difference  kernel norms (sum)")
  for row in rows:
    diff = max(row["stats_relative_difference"].items(), key=lambda kv: kv[1])
    kernels = {k: v for k, v in row["parameter_norms"].items()
               if k.endswith("kernel")}
    print(f"{row['step']:>6}  {100 * row['accuracy_stored_stats']:17.2f}  "
          f"{100 * row['accuracy_recomputed_stats']:10.2f}  "
          f"{diff[0]} {100 * diff[1]:.1f}%  {sum(kernels.values()):.2f}")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  cli.run_or_exit(check)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)
