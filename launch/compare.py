r"""The main job: ERM, re-balancing and the worst case on one data set.

  python launch/compare.py --workdir=/tmp/wcgen_fmnist \
      [--config=configs/fmnist_wgan.py] [--runs=erm,logit_adjusted,worst_case] \
      [--config.schedule.num_train_steps=...]

Each run (ERM, the logit-adjusted ERM baseline and the worst-case method
by default; wcgen.experiments.compare.PRESETS) trains in WORKDIR/<run>
with the same classifier, data, steps and seed (and resumes there if
interrupted); the table of validation and test accuracies, per class by
name, is printed and written to WORKDIR/comparison.md.
"""

import os

from absl import app
from absl import flags
from ml_collections import config_flags

from wcgen import cli
from wcgen.experiments import compare


_DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "..", "configs", "fmnist_wgan.py")
FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", _DEFAULT_CONFIG,
                                "Config file shared by every method.",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Parent directory of the runs.")
flags.DEFINE_list("runs", list(compare.DEFAULT_RUNS),
                  f"Runs to compare, from {sorted(compare.PRESETS)}.")
flags.mark_flags_as_required(["workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  import wcgen  # pylint: disable=g-import-not-at-top
  from wcgen.core import files  # pylint: disable=g-import-not-at-top

  unknown = sorted(set(FLAGS.runs) - set(compare.PRESETS))
  if unknown:
    cli.exit_with(f"unknown runs {unknown} in --runs; choose from "
                  f"{sorted(compare.PRESETS)}")
  results = []
  for name in FLAGS.runs:
    config = cli.config_or_exit().copy_and_resolve_references()
    config.update_from_flattened_dict(compare.PRESETS[name])
    result = cli.run_or_exit(wcgen.train_and_evaluate, config,
                             os.path.join(FLAGS.workdir, name))
    results.append(result)
  table = compare.comparison_table(FLAGS.runs, results)
  files.atomic_write_bytes(os.path.join(FLAGS.workdir, "comparison.md"),
                           table.encode())
  print("\n" + table)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)
