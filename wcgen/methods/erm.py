"""Empirical risk minimisation: the plain classifier and its variants.

Same classifier, optimiser, data and number of steps as the worst-case
game, so that they are compared on equal terms. The variants that change
only what C sees in a step are options here: standard augmentation
(`augment_fn`, the paper's "Combination" baseline), mixup (`mixup_alpha`),
and any loss of `wcgen.classification_losses` (class-balanced, logit
adjustment, balanced softmax, LDAM-DRW). Oversampling changes the data
stream instead (input_pipeline, `sampling="class_balanced"`).
"""

import contextlib
import dataclasses
from typing import Callable, Dict, Optional, Tuple

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from wcgen import objectives
from wcgen.methods import mixup
from wcgen.methods.feature_space import FEATURE_PERTURBATIONS
from wcgen.methods.feature_space import class_radius_scale
from wcgen.methods.feature_space import head_input_perturbation
from wcgen.methods.translation import Translation
from wcgen.core.state import PERTURBED_BATCH_NORMS, PlayerState, accuracy
from wcgen.core.state import apply_to_perturbed, apply_with_stats
from wcgen.core.state import apply_with_real_statistics

Batch = Dict[str, jax.Array]


@flax.struct.dataclass
class ClassifierState:
  step: jax.Array
  rng: jax.Array
  classifier: PlayerState


@dataclasses.dataclass(frozen=True)
class ERM:
  """A classifier loss on the real (bad) training batches.

  `loss_fn(logits, labels, step)` defaults to cross-entropy; the re-weighted
  and logit-adjusted losses of `wcgen.classification_losses` make this the
  class-balanced, logit-adjustment, balanced-softmax or LDAM(-DRW) baseline.
  """
  classifier: nn.Module
  classifier_tx: optax.GradientTransformation
  num_classes: int
  loss_fn: Callable[[jax.Array, jax.Array, jax.Array],
                    jax.Array] = objectives.step_cross_entropy
  # fn(key, images) -> images applied to each real batch (wcgen.augment).
  augment_fn: Optional[Callable[[jax.Array, jax.Array], jax.Array]] = None
  # > 0: mixup with lam ~ Beta(alpha, alpha).
  mixup_alpha: float = 0.0
  # The controls of the per-sample game (method "seed_control"): C also
  # trains, with this weight and plain CE, on the class-balanced companion
  # batch the game perturbs (batch["balanced_image"]), from step
  # `companion_start_step` (the game's warm-up) on, either unperturbed
  # (class-balanced oversampling at the game's rate) or perturbed by
  # `companion_noise_rms` per image: "random" Gaussian noise (a random,
  # non-adversarial perturbation of the worst case's size) or
  # "adversarial", signed-gradient steps against C itself, one (FGSM) or
  # several (PGD) (adversarial_perturbation: the worst case for C alone,
  # without G or the critic), or, in C's feature space, the input of its
  # head moved by companion_noise_rms times its own L2 norm:
  # "feature_adversarial" (the direction of steepest CE) or
  # "feature_random" (a random direction; methods.feature_space); or
  # "translated": rows of the companion batch replaced by M2m's
  # translations of larger classes' images into their class
  # (`translation`, against the frozen `reference_logits_fn`; rows whose
  # translation fails stay as they are; methods.translation).
  companion_weight: float = 0.0
  companion_noise_rms: float = 0.0
  companion_perturbation: str = "random"
  # Feature-space perturbations only: each class's radius scaled by
  # n_y^-power (mean 1 over the classes; feature_space.class_radius_scale),
  # n_y from `class_counts` (training images per class). 0: one radius.
  companion_radius_power: float = 0.0
  class_counts: Optional[Tuple[int, ...]] = None
  # Gradient steps of the "adversarial" perturbation: 1 = FGSM, more = PGD.
  companion_attack_steps: int = 1
  companion_start_step: int = 0
  # How C sees the companion batch in its loss (core.state.
  # PERTURBED_BATCH_NORMS), as the game's perturbed_batch_norm: "own"
  # (training mode, its own batch statistics), "running" (inference
  # mode, the real data's running statistics, no dropout) or "real_batch"
  # (one pass with the real batch, normalised by its statistics).
  companion_batch_norm: str = "own"
  # companion_perturbation="translated" only: M2m's generation step and
  # its frozen classifier g, fn(images) -> logits (a finished ERM run's).
  translation: Optional[Translation] = None
  reference_logits_fn: Optional[Callable[[jax.Array], jax.Array]] = None

  def __post_init__(self):
    if self.companion_batch_norm not in PERTURBED_BATCH_NORMS:
      raise ValueError(f"companion_batch_norm must be one of "
                       f"{PERTURBED_BATCH_NORMS}, got "
                       f"{self.companion_batch_norm!r}")
    if self.companion_perturbation == "translated" and (
        self.translation is None or self.reference_logits_fn is None):
      raise ValueError("companion_perturbation='translated' needs a "
                       "translation and a reference_logits_fn (M2m's g)")

  @property
  def needs_balanced_batch(self) -> bool:
    return self.companion_weight > 0

  @property
  def has_generator(self) -> bool:
    return False

  @property
  def per_sample(self) -> bool:
    return False

  @property
  def frozen_warmup_steps(self) -> int:
    return 0

  def init(self, rng: jax.Array, image_shape) -> ClassifierState:
    k_c, k_drop, k_state = jax.random.split(rng, 3)
    x = jnp.zeros((2,) + tuple(image_shape), jnp.float32)
    c_vars = self.classifier.init({"params": k_c, "dropout": k_drop}, x,
                                  train=False)
    return ClassifierState(step=jnp.zeros((), jnp.int32), rng=k_state,
                           classifier=PlayerState.create(c_vars,
                                                         self.classifier_tx))

  def classifier_logits(self, state, images: jax.Array) -> jax.Array:
    return self.classifier.apply(state.classifier.variables, images,
                                 train=False)

  def classifier_features(self, state, images: jax.Array) -> jax.Array:
    return self.classifier.apply(state.classifier.variables, images,
                                 train=False, return_features=True)[1]

  def sample(self, state, key, labels, seeds=None):
    """ERM has no generator (has_generator is False)."""
    del state, key, labels, seeds
    raise ValueError("this method has no generator to sample from")

  def train_step(self, state: ClassifierState,
                 batch: Batch) -> Tuple[ClassifierState, Dict[str, jax.Array]]:
    key = jax.random.fold_in(state.rng, state.step)
    # The dropout key is the step's key itself, as before augmentation and
    # mixup existed: plain ERM keeps its random stream.
    k_drop = key
    k_aug, k_mix = (jax.random.fold_in(key, i) for i in (1, 2))
    images, labels = batch["image"], batch["label"]
    if self.augment_fn is not None:
      images = self.augment_fn(k_aug, images)
    if self.mixup_alpha > 0:
      images, partner, lam = mixup.mix_batch(k_mix, images, labels,
                                             self.mixup_alpha)

    def companion_images():
      """(The companion batch, perturbed as configured; its metrics)."""
      seeds = batch["balanced_image"]
      if self.companion_perturbation in FEATURE_PERTURBATIONS:
        return seeds, {}  # perturbed at C's head instead (feature_context)
      started = state.step >= self.companion_start_step
      if self.companion_perturbation == "translated":
        # As the adversarial control: skipped (the seeds kept) before the
        # start step, where the companion loss is weighted 0.
        def translate(x):
          return self.translation(
              jax.random.fold_in(key, 6), self.reference_logits_fn,
              lambda images: self.classifier_logits(state, images), x,
              batch["balanced_label"])

        def keep(x):
          return x, jax.tree.map(jnp.zeros_like,
                                 jax.eval_shape(translate, x)[1])

        return jax.lax.cond(started, translate, keep, seeds)
      if self.companion_noise_rms > 0 and (
          self.companion_perturbation == "adversarial"):
        # Against the C of this step, in inference mode (as G attacks C);
        # a constant for C's own gradient, as G's samples are. Before the
        # start step the companion loss is weighted 0, so the attack (up to
        # N forward and backward passes of C) is skipped: the seeds then
        # only feed the c_acc_companion metric.
        seeds = jax.lax.cond(
            started,
            lambda x: adversarial_perturbation(
                lambda images: self.classifier_logits(state, images), x,
                batch["balanced_label"], self.companion_noise_rms,
                self.companion_attack_steps),
            lambda x: x, seeds)
      elif self.companion_noise_rms > 0:
        seeds = random_perturbation(jax.random.fold_in(key, 3), seeds,
                                    self.companion_noise_rms)
      return seeds, {}

    def feature_context(first_row):
      """Where the companion batch is perturbed in feature space, the
      interceptor that does it for a pass whose companion rows start at
      `first_row`; otherwise nothing."""
      if not (self.companion_noise_rms > 0 and
              self.companion_perturbation in FEATURE_PERTURBATIONS):
        return contextlib.nullcontext()
      size = self.companion_noise_rms
      if self.companion_radius_power:
        if self.class_counts is None:
          raise ValueError("companion_radius_power needs class_counts (the "
                           "training images per class) to train")
        size = size * jnp.asarray(class_radius_scale(
            self.class_counts, self.companion_radius_power))[
                batch["balanced_label"]]
      return nn.intercept_methods(head_input_perturbation(
          self.num_classes, batch["balanced_label"], size,
          self.companion_perturbation, jax.random.fold_in(key, 5),
          first_row))

    def companion_loss(logits):
      """(weighted CE on the companion batch, its metrics)."""
      on = (state.step >= self.companion_start_step).astype(jnp.float32)
      ce = objectives.cross_entropy(logits, batch["balanced_label"])
      return self.companion_weight * on * ce, {
          "c_acc_companion": accuracy(logits, batch["balanced_label"])}

    def loss_fn(params):
      variables = dict(state.classifier.variables, params=params)
      extra, metrics = 0.0, {}
      if self.needs_balanced_batch and self.companion_batch_norm == (
          "real_batch"):
        # One pass, both batches normalised by the real rows' statistics.
        companion, perturbation_metrics = companion_images()
        with feature_context(first_row=images.shape[0]):
          logits, companion_logits, stats = apply_with_real_statistics(
              self.classifier, variables, images, companion,
              rngs={"dropout": k_drop})
        extra, metrics = companion_loss(companion_logits)
        metrics.update(perturbation_metrics)
      else:
        if self.needs_balanced_batch:
          # First pass, so BatchNorm's running statistics come from the
          # real batch's pass.
          companion, perturbation_metrics = companion_images()
          with feature_context(first_row=0):
            companion_logits, _ = apply_to_perturbed(
                self.classifier, variables, companion,
                self.companion_batch_norm,
                rngs={"dropout": jax.random.fold_in(key, 4)})
          extra, metrics = companion_loss(companion_logits)
          metrics.update(perturbation_metrics)
        logits, stats = apply_with_stats(self.classifier, variables, images,
                                         train=True, rngs={"dropout": k_drop})
      if self.mixup_alpha > 0:
        loss = mixup.mixed_loss(self.loss_fn, logits, labels, partner, lam,
                                state.step)
      else:
        loss = self.loss_fn(logits, labels, state.step)
      loss += extra
      return loss, (stats, {"c_loss": loss,
                            "c_acc_real": accuracy(logits, labels),
                            **metrics})

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(
        state.classifier.params)
    classifier = state.classifier.apply_gradients(grads, self.classifier_tx,
                                                  stats)
    return state.replace(step=state.step + 1, classifier=classifier), metrics


def random_perturbation(key: jax.Array, images: jax.Array,
                        rms: float) -> jax.Array:
  """images + Gaussian noise rescaled to root-mean-square `rms` per image,
  clipped to [-1, 1]: a random perturbation of a given size."""
  noise = jax.random.normal(key, images.shape, images.dtype)
  return jnp.clip(images + objectives.scaled_to_rms(noise, rms), -1.0, 1.0)


COMPANION_PERTURBATIONS = ("random", "adversarial", "translated"
                          ) + FEATURE_PERTURBATIONS


def adversarial_perturbation(logits_fn: Callable[[jax.Array], jax.Array],
                             images: jax.Array, labels: jax.Array,
                             size: float, steps: int = 1) -> jax.Array:
  """The worst case for a classifier alone inside the L-inf ball of radius
  `size` around `images` (and inside [-1, 1]). steps=1: one step of the
  fast gradient sign method (Goodfellow et al. 2015), images + size *
  sign(dCE/dx), every pixel moved by `size`, so the perturbation's RMS is
  `size` (before clipping) as random_perturbation's is. steps > 1:
  projected gradient ascent from the images (Madry et al. 2018) with
  steps of 2.5 * size / steps, their rule, each projected back into the
  ball; it stays within `size` of every pixel, like the per-sample G
  within its bound. No gradient flows through it."""
  # The batch mean's gradient w.r.t. image i is CE_i's over the batch
  # size: the same sign (C in inference mode treats images one by one).
  grad = jax.grad(lambda x: objectives.cross_entropy(logits_fn(x), labels))
  if steps == 1:
    return jax.lax.stop_gradient(
        jnp.clip(images + size * jnp.sign(grad(images)), -1.0, 1.0))
  step_size = 2.5 * size / steps

  def ascend(_, x):
    x = x + step_size * jnp.sign(grad(x))
    return jnp.clip(jnp.clip(x, images - size, images + size), -1.0, 1.0)

  return jax.lax.stop_gradient(
      jax.lax.fori_loop(0, steps, ascend, images))
