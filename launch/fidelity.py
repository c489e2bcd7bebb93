r"""Class fidelity of a finished run's worst-case samples, per class.

  python launch/fidelity.py --workdir=RUN --reference=ERM_RUN \
      [--samples_per_class=100]

For generated images of every class (a per-sample generator perturbs
training images of that class), the accuracy of the run's classifier and
of the reference run's classifier (trained on the real data). Writes
RUN/fidelity.json and RUN/fidelity.png (classes by name).
"""

import os

from absl import app
from absl import flags

from wcgen import cli

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "A finished run with a generator.")
flags.DEFINE_string("reference", None, "A finished run whose classifier "
                    "scores the samples (e.g. ERM on the same data).")
flags.DEFINE_integer("samples_per_class", 100, "Generated images per class.")
flags.mark_flags_as_required(["workdir", "reference"])


def _run_name(workdir: str) -> str:
  """A run's name for a title: its folder, with the sweep's run name when
  the folder is a seed (`per_sample_3200/seed0`)."""
  parts = os.path.normpath(os.path.abspath(workdir)).split(os.sep)
  return "/".join(parts[-2:]) if parts[-1].startswith("seed") else parts[-1]


def fidelity():
  from wcgen.core import files  # pylint: disable=g-import-not-at-top
  from wcgen.data import input_pipeline  # pylint: disable=g-import-not-at-top
  from wcgen.data import specs  # pylint: disable=g-import-not-at-top
  from wcgen.eval import features  # pylint: disable=g-import-not-at-top
  from wcgen.eval import fidelity as fidelity_lib  # pylint: disable=g-import-not-at-top
  config, method, state = features.load_run(FLAGS.workdir)
  _, reference, reference_state = features.load_run(FLAGS.reference)
  data = input_pipeline.create_datasets(config.data)
  result = fidelity_lib.class_fidelity(method, state, reference,
                                       reference_state, data,
                                       FLAGS.samples_per_class)
  names = specs.class_names(config.data.name)
  files.atomic_write_json(os.path.join(FLAGS.workdir, "fidelity.json"), {
      "reference": os.path.abspath(FLAGS.reference),
      "samples_per_class": FLAGS.samples_per_class,
      **{k: dict(zip(names, map(float, v))) for k, v in result.items()}})
  fidelity_lib.fidelity_figure(
      result, names, os.path.join(FLAGS.workdir, "fidelity.png"),
      f"{_run_name(FLAGS.workdir)}: class fidelity of Q, reference "
      f"{_run_name(FLAGS.reference)}")
  for name, c, r in zip(names, result["c_on_q"], result["reference_on_q"]):
    print(f"{name:>12}  C {100 * c:5.1f}%  reference {100 * r:5.1f}%")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  cli.run_or_exit(fidelity)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)
