r"""How often do M2m's translations pass their own test on these images?

  python launch/translation_check.py --workdir=RUN [--step=1600] \
      [--batches=8] [--step_rms=0.0036,0.01,0.02,0.05] [--threshold=0.9] \
      [--grid=translations.png] [--reference_run=G] [--judge_run=J]

RUN is a seed_control run with control_perturbation="translated"; its
classifier at checkpoint --step is M2m's f, its reference_run is M2m's g,
and its method.translation gives every value but the step size. On
--batches class-balanced batches of *training* images (the companion
stream the run trains on; never validation or test: this picks a step
size before any run is judged), each step size's translation
(wcgen.methods.translation) is applied and the script prints, per step
size, the share of rows tried (regenerated, with a larger class to
translate from), the share of those g is sure of (its probability of the
row's class >= the threshold) and of those replaced (also past M2m's
second draw), g's mean probability of the row's class after the steps,
and the largest per-pixel RMS the steps can move an image; --grid draws
the translations g is sure of. Session 41 ran it to choose the m2m
sweep's step size, and none qualified (configs/sweeps/issue15.py).

--reference_run puts another classifier in g's place (session 42: a
robust one, whose input gradients may move an image towards what its new
class looks like rather than across a nearby decision boundary);
--judge_run names a classifier the translation never sees and prints the
share of the translations g is sure of that it too gives the row's class:
class fidelity judged from outside the attack, where g's own probability
says only that the attack on g succeeded.
"""

import collections
import dataclasses

from absl import app
from absl import flags
import jax
import jax.numpy as jnp
import numpy as np

from wcgen import cli
from wcgen import methods
from wcgen.core import image_grid
from wcgen.data import specs
from wcgen.data import input_pipeline
from wcgen.eval import features
from wcgen.methods import translation as translation_lib
from wcgen.train import trainer

FLAGS = flags.FLAGS
flags.DEFINE_string("workdir", None, "A seed_control run with translated "
                    "companion rows, with checkpoints.")
flags.DEFINE_integer("step", None, "The checkpoint to load (default: the "
                     "latest).")
flags.DEFINE_integer("batches", 8, "Class-balanced training batches.")
flags.DEFINE_list("step_rms", ["0.0036", "0.01", "0.02", "0.05"],
                  "Per-pixel RMS of one step, images in [-1, 1].")
flags.DEFINE_float("threshold", None, "g's probability of the target a "
                   "translation needs (default: the run's "
                   "method.translation.threshold).")
flags.DEFINE_string("grid", None, "Also write a labelled PNG here: for "
                    "the last step size, up to --pairs translations g is sure "
                    "of per class, each source beside its translation.")
flags.DEFINE_integer("pairs", 4, "Source/translation pairs a class in --grid.")
flags.DEFINE_string("reference_run", None, "A finished run whose classifier "
                    "is g (default: the run's method.reference_run).")
flags.DEFINE_string("judge_run", None, "A finished run whose classifier "
                    "judges the translations g is sure of (not used to make "
                    "them); prints the share it gives the row's class.")
flags.mark_flags_as_required(["workdir"])


def check():
  config, method, state = features.load_run(FLAGS.workdir, FLAGS.step)
  if config.method.control_perturbation != "translated":
    raise ValueError(f"{FLAGS.workdir} does not translate its companion "
                     "rows (method.control_perturbation='translated')")
  g_run = FLAGS.reference_run or config.method.reference_run
  reference = trainer.frozen_classifier(g_run, config)
  judge = (trainer.frozen_classifier(FLAGS.judge_run, config, "judge_run")
           if FLAGS.judge_run else None)
  data = input_pipeline.create_datasets(config.data)
  base = methods.translation_for(config.method, data.train_class_counts)
  if FLAGS.threshold is not None:
    base = dataclasses.replace(base, threshold=FLAGS.threshold)
  # The companion batches the run draws from its checkpoint's step on.
  size = config.schedule.batch_size
  batches = list(data.train_dataset(
      size, config.seed, int(state.step), np.arange(size),
      balanced_companion=True).take(FLAGS.batches).as_numpy_iterator())
  images = [jnp.asarray(b["balanced_image"]) for b in batches]
  labels = [jnp.asarray(b["balanced_label"]) for b in batches]
  f = lambda x: method.classifier_logits(state, x)
  print(f"{FLAGS.workdir}, f at step {int(state.step)}, threshold "
        f"{base.threshold}, g "
        f"{g_run}; {FLAGS.batches} class-balanced "
        f"training batches of {size}")
  names = specs.class_names(config.data.name)
  for step_rms in map(float, FLAGS.step_rms):
    translation = dataclasses.replace(base, step_rms=step_rms)
    grid = FLAGS.grid and step_rms == float(FLAGS.step_rms[-1])
    counts, pairs = translate_batches(translation, reference, f, judge,
                                      images, labels, keep_pairs=grid)
    if grid:
      write_grid(FLAGS.grid, pairs, step_rms, images, names)
    tried = max(counts["tried"], 1)
    reach = translation.start_rms + translation.steps * step_rms
    sure, replaced = (100 * counts[k] / tried for k in ("sure", "accepted"))
    line = (f"step_rms {step_rms:<7g} tried "
            f"{100 * counts['tried'] / counts['rows']:5.1f}% of rows; of those "
            f"g sure {sure:5.1f}%, replaced {replaced:5.1f}%;  g's p(target) "
            f"over all rows {counts['target_prob'] / counts['rows']:.3f};  "
            f"reach <= RMS {reach:.3f}")
    if judge is not None:
      agree = 100 * counts["judged_target"] / max(counts["sure"], 1)
      line += f";  judge gives the target to {agree:5.1f}% of g's sure"
    print(line)


def translate_batches(translation, reference, f, judge, images, labels,
                      keep_pairs):
  """One translation pass over the batches: the outcome counts summed
  (translation.count_outcomes) and, if keep_pairs, up to --pairs
  (source, translation, source class, g's p) per class g is sure of."""
  def run(key, x, y):
    out = translation.translate(key, reference, f, x, y)
    return out, translation_lib.count_outcomes(out, y, judge)
  run = jax.jit(run)
  totals = collections.Counter()
  pairs = collections.defaultdict(list)
  for i, (x, y) in enumerate(zip(images, labels)):
    out, counts = jax.device_get(run(jax.random.PRNGKey(i), x, y))
    for k, v in counts.items():
      totals[k] += float(v)
    if not keep_pairs:
      continue
    for row in np.flatnonzero(out["sure"]):
      target, source = int(y[row]), int(out["source"][row])
      if len(pairs[target]) < FLAGS.pairs:
        pairs[target].append((np.asarray(x[source]), out["translated"][row],
                              int(y[source]),
                              float(out["target_prob"][row])))
  return totals, pairs


def write_grid(path, pairs, step_rms, images, names):
  """One row per class that received translations g is sure of: its
  (source, translation) pairs, the row labelled with the class and its
  pairs' source classes."""
  if not pairs:
    print(f"no translation g is sure of at step_rms {step_rms}; "
          f"no grid written")
    return
  blank = np.ones_like(np.asarray(images[0][0]))  # white, one image
  tiles, row_labels = [], []
  for target in sorted(pairs):
    row = pairs[target]
    for source_image, translated, _, _ in row:
      tiles += [source_image, translated]
    tiles += [blank] * (2 * (FLAGS.pairs - len(row)))
    row_labels.append(f"{names[target]} from " + ", ".join(
        f"{names[s]} ({p:.2f})" for _, _, s, p in row))
  grid = image_grid.make_grid(np.stack(tiles), rows=len(row_labels))
  image_grid.save_labelled_png(path, grid, row_labels)
  print(f"wrote {path}: {len(row_labels)} classes, each source left of its "
        f"translation (g's probability of the row's class in brackets)")


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()
  cli.run_or_exit(check)


if __name__ == "__main__":
  app.run(main, flags_parser=cli.parse_flags)
