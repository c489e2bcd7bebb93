r"""How far does the worst case in feature space move a trained C?

  python launch/feature_radius_check.py --workdir=RUN [--step=2400] \
      [--images=512] [--radii=0.05,0.1,0.2,0.3,0.5]

On --images *training* images (never validation or test: this picks a
radius before any run), a finished run's classifier at checkpoint --step:
its accuracy and cross-entropy with its head's input moved by each radius
times its own norm, towards the worst case and in a random direction
(wcgen.methods.feature_space). Session 19 chose the radius 0.2 of sweep
issue15/feature_space with it. Prints one line per radius and kind.
"""

from absl import app
from absl import flags
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from wcgen import cli
from wcgen.data import input_pipeline
from wcgen.eval import features
from wcgen.methods.feature_space import FEATURE_PERTURBATIONS
from wcgen.methods.feature_space import head_input_perturbation

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "A run of launch/main.py with "
                    "checkpoints.")
flags.DEFINE_integer("step", None, "The checkpoint to load (default: the "
                     "latest).")
flags.DEFINE_integer("images", 512, "Training images to score.")
flags.DEFINE_list("radii", ["0.05", "0.1", "0.2", "0.3", "0.5"],
                  "Radii, as fractions of each row's feature norm.")
flags.mark_flags_as_required(["workdir"])


def check():
  config, method, state = features.load_run(FLAGS.workdir, FLAGS.step)
  data = input_pipeline.create_datasets(config.data)
  batch = next(data.train_dataset(FLAGS.images, config.seed, 0,
                                  np.arange(FLAGS.images)).as_numpy_iterator())
  images, labels = jnp.asarray(batch["image"]), jnp.asarray(batch["label"])
  variables = state.classifier.variables
  clf = method.classifier

  def report(name, logits):
    acc = float(jnp.mean(jnp.argmax(logits, -1) == labels))
    ce = float(jnp.mean(optax.softmax_cross_entropy_with_integer_labels(
        logits, labels)))
    print(f"{name:34s} accuracy {100 * acc:5.1f}%  CE {ce:.3f}")

  print(f"{FLAGS.workdir}, step {int(state.step)}, {FLAGS.images} "
        "training images")
  report("unperturbed", clf.apply(variables, images, train=False))
  for radius in map(float, FLAGS.radii):
    for kind in FEATURE_PERTURBATIONS[::-1]:
      with nn.intercept_methods(head_input_perturbation(
          data.num_classes, labels, radius, kind, jax.random.PRNGKey(0))):
        report(f"{kind} {radius}", clf.apply(variables, images, train=False))


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  cli.run_or_exit(check)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)
