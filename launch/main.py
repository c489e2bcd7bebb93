r"""Trains and evaluates one wcgen run.

  python launch/main.py --config=configs/fmnist_wgan.py --workdir=/tmp/run \
      [--config.method.name=erm] [--config.method.eps=0.3] [--config.data.data_dir=DIR]

Multi-host: pass --distributed (and, where JAX cannot auto-detect the
cluster, --coordinator_address, --num_processes, --process_id).
"""


from absl import app
from absl import flags
from absl import logging
from ml_collections import config_flags

from wcgen import cli


FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Training config file.",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Directory for checkpoints, metrics, "
                    "samples and results.")
flags.DEFINE_bool("allow_config_change", False, "Continue a run in --workdir "
                  "even if its config.json differs from --config.")
flags.DEFINE_bool("distributed", False, "Call jax.distributed.initialize().")
flags.DEFINE_string("coordinator_address", None, "host:port of process 0.")
flags.DEFINE_integer("num_processes", None, "Number of processes.")
flags.DEFINE_integer("process_id", None, "This process's id.")
flags.mark_flags_as_required(["config", "workdir"])


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  import jax  # pylint: disable=g-import-not-at-top
  import wcgen  # pylint: disable=g-import-not-at-top

  if FLAGS.distributed:
    cli.initialize_hosts(FLAGS.coordinator_address, FLAGS.num_processes,
                         FLAGS.process_id)
  logging.info("JAX process %d/%d, local devices %s", jax.process_index(),
               jax.process_count(), jax.local_devices())
  results = cli.run_or_exit(wcgen.train_and_evaluate,
                               cli.config_or_exit(),
                               FLAGS.workdir, FLAGS.allow_config_change)
  scores = "; ".join(
      f"{split} accuracy {overall:.4f} (balanced {balanced:.4f})"
      for split, overall, balanced in (
          ("validation", results.val_accuracy, results.val_balanced_accuracy),
          ("test", results.test_accuracy, results.test_balanced_accuracy))
      if overall is not None)
  print(f"{results.method}: {scores} after {results.steps} steps; results "
        f"in {FLAGS.workdir}/results.json")


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)
