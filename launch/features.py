r"""t-SNE of a classifier's features for real and generated images, and the
Fréchet Classifier Distance (FCD) of generated images (the paper's Fig.
2a-c and, in place of Table 4's FID, the FCD).

  python launch/features.py --workdir=RUN_OF_WORST_CASE \
      [--gan_workdir=RUN_OF_GAN_AUGMENT] [--reference_workdir=ERM_RUN_IF1] \
      [--samples=1000] [--out=DIR]

The features are the penultimate layer of --reference_workdir's classifier
(an ERM run on the full balanced training set, `--config.data.imbalance_
factor=1`), or of --workdir's own classifier if none is given. A
per-sample run (Eq. 8's G(x_i, y_i, z)) perturbs training images of its own
training split, as in training. Writes
tsne.png and fcd.json into --out (default: --workdir). FCD is not FID:
never compare it with the paper's FID numbers.
"""

import os

from absl import app
from absl import flags

from wcgen import cli


FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "A finished worst_case (or other "
                    "generator) run.")
flags.DEFINE_string("gan_workdir", "", "Optional gan_augment run: its "
                    "samples get a panel too.")
flags.DEFINE_string("reference_workdir", "", "Run whose classifier gives "
                    "the features (ideally ERM on the balanced set).")
flags.DEFINE_integer("samples", 1000, "Test images and samples per group.")
flags.DEFINE_string("out", "", "Output directory (default --workdir).")
flags.mark_flags_as_required(["workdir"])


def make_plots():
  import numpy as np  # pylint: disable=g-import-not-at-top
  from wcgen.data import input_pipeline  # pylint: disable=g-import-not-at-top
  from wcgen.eval import features, frechet  # pylint: disable=g-import-not-at-top
  from wcgen.core import files  # pylint: disable=g-import-not-at-top
  from wcgen.data import specs  # pylint: disable=g-import-not-at-top
  out = FLAGS.out or FLAGS.workdir
  files.make_workdir(out)
  config, method, state = features.load_run(FLAGS.workdir)
  ref = (features.load_run(FLAGS.reference_workdir)
         if FLAGS.reference_workdir else (config, method, state))
  data = input_pipeline.create_datasets(config.data)
  rng = np.random.default_rng(0)
  n = min(FLAGS.samples, len(data.test_labels))
  rows = rng.choice(len(data.test_labels), n, replace=False)
  batch = next(data.eval_dataset(len(data.test_labels),
                                 np.arange(len(data.test_labels)))
               .as_numpy_iterator())
  real_x, real_y = batch["image"][rows], batch["label"][rows]
  labels = np.resize(np.arange(data.num_classes), n).astype(np.int32)
  groups = {"real test images": (features.penultimate_features(
      ref[1], ref[2], real_x), real_y)}
  runs = [("worst-case samples", data, method, state)]
  if FLAGS.gan_workdir:
    gan_config, gan_method, gan_state = features.load_run(FLAGS.gan_workdir)
    gan_data = (input_pipeline.create_datasets(gan_config.data)
                if gan_method.per_sample else None)
    runs.insert(0, ("GAN samples", gan_data, gan_method, gan_state))
  fcd = {}
  for name, run_data, m, s in runs:
    # A per-sample G perturbs training images of its own run's data.
    fake = features.run_samples(m, s, labels, run_data)
    groups[name] = (features.penultimate_features(ref[1], ref[2], fake),
                    labels)
    fcd[name] = frechet.feature_distance(groups["real test images"][0],
                                         groups[name][0])
  features.tsne_figure(groups, os.path.join(out, "tsne.png"),
                       class_names=specs.class_names(config.data.name))
  files.atomic_write_json(os.path.join(out, "fcd.json"), {
      "fcd_to_real_test_images": fcd, "samples": n,
      "feature_classifier": FLAGS.reference_workdir or FLAGS.workdir,
      "note": "Frechet Classifier Distance, not FID"})
  for name, value in fcd.items():
    print(f"FCD({name}, real test images) = {value:.3f}")
  print(f"written: {os.path.join(out, 'tsne.png')}, "
        f"{os.path.join(out, 'fcd.json')}")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  cli.run_or_exit(make_plots)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)
