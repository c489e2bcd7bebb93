r"""The main job: ERM and the worst-case game on the same data, side by side.

  python launch/compare.py --workdir=/tmp/wcgen_fmnist \
      [--config=configs/fmnist_wgan.py] [--methods=erm,worst_case] \
      [--config.num_train_steps=...]

Each method trains in WORKDIR/<method> with the same classifier, data,
steps and seed (and resumes there if interrupted); the table of test
accuracies is printed and written to WORKDIR/comparison.md.
"""

import os

from absl import app
from absl import flags
from ml_collections import config_flags

from wcgen import cli


_DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                               "..", "configs", "fmnist_wgan.py")
FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", _DEFAULT_CONFIG,
                                "Config file shared by every method.",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Parent directory of the runs.")
flags.DEFINE_list("methods", ["erm", "worst_case"], "Methods to compare.")
flags.mark_flags_as_required(["workdir"])


def comparison_table(results) -> str:
  """Markdown table: one row per method, overall and per-class accuracy."""
  num_classes = len(results[0]["test_per_class_accuracy"])
  head = ("| method | test acc. | balanced acc. | " +
          " | ".join(f"class {c}" for c in range(num_classes)) + " |")
  rule = "|" + "---|" * (3 + num_classes)
  lines = [head, rule]
  for r in results:
    per_class = " | ".join(f"{100 * a:.1f}" for a in
                           r["test_per_class_accuracy"])
    lines.append(f"| {r['method']} | {100 * r['test_accuracy']:.2f} | "
                 f"{100 * r['test_balanced_accuracy']:.2f} | {per_class} |")
  first = results[0]
  lines.append("")
  lines.append(f"{first['dataset']}, imbalance factor "
               f"{first['imbalance_factor']:g}, seed {first['seed']}, "
               f"{first['steps']} steps of batch {first['batch_size']}; "
               "the final classifier of each run is evaluated.")
  return "\n".join(lines) + "\n"


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  import wcgen  # pylint: disable=g-import-not-at-top
  from wcgen.core import files  # pylint: disable=g-import-not-at-top

  results = []
  for method in FLAGS.methods:
    config = cli.config_or_exit().copy_and_resolve_references()
    config.method = method
    result = cli.run_or_exit(wcgen.train_and_evaluate, config,
                                os.path.join(FLAGS.workdir, method))
    if "preempted_at_step" in result:
      print(f"{method} preempted at step {result['preempted_at_step']}; run "
            "the same command to resume")
      return
    results.append(result)
  table = comparison_table(results)
  files.atomic_write_bytes(os.path.join(FLAGS.workdir, "comparison.md"),
                           table.encode())
  print("\n" + table)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)
