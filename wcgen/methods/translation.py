"""M2m's translation of frequent-class images into rare classes.

Kim, Jeong and Shin, "M2m: Imbalanced Classification via Major-to-minor
Translation" (CVPR 2020), in the form of their code (alinlab/M2m,
train.py `train_net` and `generation`). Every worst case of issue 15
moves the few images a rare class has; M2m adds images that class lacks:
an image of a larger class, moved a little until a frozen classifier g
trained on the imbalanced data (ERM) gives it the rare class, becomes a
new training image of the rare class. Whether that adds anything over
plain oversampling is what it is here to measure: a row whose translation
fails keeps its oversampled real image, so the unperturbed class-balanced
batch is this method with every translation rejected.

On a class-balanced batch of images x_i with labels y_i (the oversampled
stream), as M2m does on its oversampled batch:

* row i is regenerated with probability 1 - N_{y_i} / N_max (a class with
  many images keeps its real rows);
* its source is a row j of the same batch drawn with probability
  proportional to 1 - beta^{(N_{y_j} - N_{y_i})+} (only larger classes,
  the much larger ones about equally);
* x_j, plus a small random start, takes `steps` normalised gradient steps
  that lower CE(g(x), y_i) + classifier_weight * f_{y_j}(x) (f: the
  classifier being trained, in inference mode; its logit of the source
  class, so the new image also stops looking like its source to f);
* it replaces row i if g gives it y_i with probability >= threshold, and
  with probability 1 - beta^{(N_{y_j} - N_{y_i})+} (M2m's second draw);
  otherwise row i keeps its real image.

Step sizes are per-pixel RMS (images in [-1, 1]); M2m's step of L2 norm
0.1 on 3x32x32 images in [0, 1] is an RMS of 2 * 0.1 / sqrt(3072) = 0.0036
in these units, the default. On Fashion-MNIST-LT it translates nothing,
no step up to 14 times it gets g sure of half the translations, a robust
g is sure of fewer, and at 28 times it (g sure of half) M2m ties the
unperturbed batch (configs/sweeps/issue15.py, sweeps "m2m" and
"m2m_step0.1"). No gradient flows through the
translated images. `outcome_counts` adds a judge: a classifier the
translation never sees, whose agreement with the row's class is class
fidelity measured outside the attack on g.
"""

import dataclasses
from typing import Callable, Dict, Optional, Tuple

import jax
import jax.numpy as jnp

from wcgen import objectives

LogitsFn = Callable[[jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class Translation:
  """M2m's generation step and its hyperparameters (defaults: theirs,
  converted to per-pixel RMS in [-1, 1] units)."""
  # Training images per class (N_y): which rows are regenerated, and from
  # which classes their sources come.
  class_counts: Tuple[int, ...]
  steps: int = 10  # M2m's attack_iter
  step_rms: float = 0.0036  # M2m's step_size 0.1 (L2, [0, 1], 3x32x32)
  # Gaussian noise added to the source first (M2m: random_start; its
  # noise, renormed over a whole batch, is ~0.0028 per pixel here).
  start_rms: float = 0.0028
  classifier_weight: float = 0.5  # M2m's lam
  # M2m's gamma, g's probability of the target: 0.9 in the command of
  # their README and run.sh that gives their CIFAR-10-LT results (their
  # train.py's own default is 0.99).
  threshold: float = 0.9
  beta: float = 0.999  # M2m's beta

  def __post_init__(self):
    if len(self.class_counts) < 2 or min(self.class_counts) <= 0:
      raise ValueError(f"class_counts must be positive, one per class; got "
                       f"{self.class_counts!r}")
    if not isinstance(self.steps, int) or self.steps < 1:
      raise ValueError(f"steps must be an integer >= 1, got {self.steps!r}")
    if not 0 < self.threshold <= 1 or not 0 < self.beta < 1:
      raise ValueError(f"threshold must be in (0, 1] and beta in (0, 1); "
                       f"got {self.threshold}, {self.beta}")

  def source_weights(self, labels: jax.Array) -> jax.Array:
    """[B, B]: row i's weight of row j as its source,
    1 - beta^{(N_{y_j} - N_{y_i})+}; zero unless j's class is larger."""
    counts = jnp.asarray(self.class_counts, jnp.float32)[labels]
    gap = jnp.maximum(counts[None, :] - counts[:, None], 0.0)
    return 1.0 - jnp.power(self.beta, gap)

  def __call__(self, key: jax.Array, reference_logits_fn: LogitsFn,
               classifier_logits_fn: LogitsFn, images: jax.Array,
               labels: jax.Array
               ) -> Tuple[jax.Array, Dict[str, jax.Array]]:
    """(the batch with its accepted translations in place, metrics)."""
    out = self.translate(key, reference_logits_fn, classifier_logits_fn,
                         images, labels)
    mask = out["accepted"].reshape((-1,) + (1,) * (images.ndim - 1))
    return jnp.where(mask, out["translated"], images), {
        # Shares of the batch's rows: regenerated with a larger class to
        # translate from; of those, given their class by g (>= threshold);
        # of those, also past M2m's second draw, i.e. replaced.
        "translation_tried": out["tried"].mean(),
        "translation_sure": out["sure"].mean(),
        "translation_accepted": out["accepted"].mean(),
        "translation_target_prob": out["target_prob"].mean()}

  def outcome_counts(self, key: jax.Array, reference_logits_fn: LogitsFn,
                     classifier_logits_fn: LogitsFn, images: jax.Array,
                     labels: jax.Array,
                     judge_logits_fn: Optional[LogitsFn] = None
                     ) -> Dict[str, jax.Array]:
    """Counts over the batch, to sum over batches: "rows", "tried", "sure",
    "accepted", "target_prob" (the sum of g's probability of the row's
    class) and "judged_target", the sure rows a judge classifier -- one the
    translation never sees -- also gives the row's class by its argmax (0
    without a judge). g's probability says only that the attack on g
    worked; the judge says whether the translation carries the class to a
    classifier it was not made against."""
    return count_outcomes(
        self.translate(key, reference_logits_fn, classifier_logits_fn,
                       images, labels), labels, judge_logits_fn)

  def translate(self, key: jax.Array, reference_logits_fn: LogitsFn,
                classifier_logits_fn: LogitsFn, images: jax.Array,
                labels: jax.Array) -> Dict[str, jax.Array]:
    """Every row's translation and its fate: "translated" [B, ...],
    "source" (the row it was translated from), "target_prob" (g's
    probability of the row's class after the steps) and the masks "tried",
    "sure" and "accepted" (each within the one before)."""
    k_slot, k_source, k_start, k_accept = jax.random.split(key, 4)
    counts = jnp.asarray(self.class_counts, jnp.float32)
    slot = jax.random.bernoulli(k_slot, 1.0 - counts[labels] / counts.max())
    weights = self.source_weights(labels)
    has_source = weights.sum(axis=1) > 0
    # A row with no larger class in the batch draws from uniform logits;
    # it is never accepted (has_source), so its draw does not matter.
    source = jax.random.categorical(
        k_source, jnp.where(has_source[:, None],
                            jnp.log(jnp.maximum(weights, 1e-30)), 0.0))
    source_weight = jnp.take_along_axis(weights, source[:, None], 1)[:, 0]
    source_labels = labels[source]
    noise = jax.random.normal(k_start, images.shape, images.dtype)
    start = jnp.clip(images[source] + objectives.scaled_to_rms(
        noise, self.start_rms), -1.0, 1.0)

    def loss(x):
      own = jnp.take_along_axis(classifier_logits_fn(x),
                                source_labels[:, None], 1)
      return (objectives.cross_entropy(reference_logits_fn(x), labels) +
              self.classifier_weight * jnp.mean(own))

    def descend(_, x):
      step = objectives.scaled_to_rms(jax.grad(loss)(x), self.step_rms,
                                      floor=1e-20)
      return jnp.clip(x - step, -1.0, 1.0)

    translated = jax.lax.stop_gradient(
        jax.lax.fori_loop(0, self.steps, descend, start))
    target_prob = jnp.take_along_axis(
        jax.nn.softmax(reference_logits_fn(translated)), labels[:, None],
        1)[:, 0]
    tried = slot & has_source
    sure = tried & (target_prob >= self.threshold)
    accepted = sure & jax.random.bernoulli(k_accept, source_weight)
    return {"translated": translated, "source": source,
            "target_prob": target_prob, "tried": tried, "sure": sure,
            "accepted": accepted}


def count_outcomes(out: Dict[str, jax.Array], labels: jax.Array,
                   judge_logits_fn: Optional[LogitsFn] = None
                   ) -> Dict[str, jax.Array]:
  """Translation.outcome_counts from translate's output `out` for `labels`
  (for a caller that also keeps the translated images)."""
  judged = (jnp.zeros_like(out["sure"]) if judge_logits_fn is None else
            jnp.argmax(judge_logits_fn(out["translated"]), -1) == labels)
  return {"rows": jnp.asarray(labels.shape[0], jnp.float32),
          **{k: out[k].sum(dtype=jnp.float32)
             for k in ("tried", "sure", "accepted", "target_prob")},
          "judged_target": (out["sure"] & judged).sum(dtype=jnp.float32)}
