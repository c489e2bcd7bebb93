r"""Shows exactly what data a config trains and tests on.

  python launch/data_report.py --config=configs/fmnist_wgan.py \
      --workdir=/tmp/fm_data [--config.data.label_noise=symmetric ...]

Prints per-class train/test counts and writes, into --workdir,
data_report.json, class_histogram.png, test_clean_vs_distorted.png and
(with label noise) label_noise_examples.png.
"""


from absl import app
from absl import flags
from ml_collections import config_flags

from wcgen import cli


FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Config file.",
                                lock_config=True)
flags.DEFINE_string("workdir", None, "Where the report goes.")
flags.mark_flags_as_required(["config", "workdir"])


def report(config, workdir):
  from wcgen.data import input_pipeline  # pylint: disable=g-import-not-at-top
  from wcgen.data import report as data_report  # pylint: disable=g-import-not-at-top
  from wcgen.core import files  # pylint: disable=g-import-not-at-top
  from wcgen.train import validation  # pylint: disable=g-import-not-at-top
  validation.validate_config(config, 1)
  files.make_workdir(workdir)
  data = input_pipeline.create_datasets(config.data)
  summary = data_report.write_report(data, workdir)
  print(data_report.format_table(summary))
  print(f"measured imbalance factor {summary['imbalance_factor_measured']:.1f}, "
        f"label noise {summary['label_noise_rate_measured']:.3f}, "
        f"{summary['test_images_distorted']} test images distorted "
        f"({summary['test_distortion']} {summary['test_distortion_level']}); "
        f"report in {workdir}")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  cli.run_or_exit(report, cli.config_or_exit(), FLAGS.workdir)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)
