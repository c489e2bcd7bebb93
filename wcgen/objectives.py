"""The losses of the worst-case game, as pure functions of arrays.

Every function here is free of Flax, optax and configs so that it can be
called from any JAX code. Shapes use B for the batch, K for the number of
classes. Each loss is written as a quantity to *minimise* by its player; the
docstrings give the maximisation it corresponds to in the paper (Guo et al.,
"Learning from Bad Data via Generation", NeurIPS 2019, Eq. 10 and Eq. 14).
"""

from typing import Callable

import jax
import jax.numpy as jnp
import optax

Array = jax.Array


def cross_entropy(logits: Array, labels: Array) -> Array:
  """Mean softmax cross-entropy. logits [B, K] float, labels [B] int -> []."""
  return jnp.mean(
      optax.softmax_cross_entropy_with_integer_labels(logits, labels))


def step_cross_entropy(logits: Array, labels: Array, step: Array) -> Array:
  """`cross_entropy` with the (unused) step argument of a classifier-loss
  function `fn(logits, labels, step)`; the default of every method."""
  del step
  return cross_entropy(logits, labels)


def gradient_penalty(critic_fn: Callable[[Array], Array], real: Array,
                     fake: Array, key: Array) -> Array:
  """WGAN-GP penalty E[(||grad_x D(x_hat)|| - 1)^2] (Gulrajani et al. 2017).

  Args:
    critic_fn: maps images [B, ...] to scores [B]; the labels of a
      conditional critic are closed over (x_hat keeps each row's label, since
      real and fake rows are paired with the same label).
    real: real images [B, ...].
    fake: generated images, same shape as `real`.
    key: PRNG key for the interpolation coefficients.

  Returns:
    The scalar penalty, averaged over the (global) batch.

  One coefficient is drawn per sample and broadcast over all other axes, and
  the norm runs over every non-batch axis, as in the paper. The norm is
  `optax.safe_norm`, whose gradient is zero (not NaN) at a zero gradient.
  """
  batch = real.shape[0]
  alpha = jax.random.uniform(key, (batch,) + (1,) * (real.ndim - 1),
                             dtype=real.dtype)
  x_hat = alpha * real + (1.0 - alpha) * fake
  grads = jax.grad(lambda x: jnp.sum(critic_fn(x)))(x_hat)
  norms = optax.safe_norm(grads.reshape(batch, -1), 0.0, axis=-1)
  return jnp.mean((norms - 1.0) ** 2)


def wasserstein_critic_loss(d_real: Array, d_fake: Array) -> Array:
  """Negated Kantorovich-Rubinstein estimate: -(E_P[D] - E_Q[D]).

  d_real, d_fake: critic scores [B]. The critic in Eq. 10 maximises
  lambda * (E_P[D] - E_Q[D]); lambda > 0 only rescales the critic's whole
  objective, which Adam's update is invariant to, so it is left out and the
  gradient-penalty weight keeps its usual WGAN-GP meaning.
  """
  return jnp.mean(d_fake) - jnp.mean(d_real)


def js_discriminator_loss(d_real: Array, d_fake: Array) -> Array:
  """Standard GAN discriminator loss (Eq. 14), on logits [B].

  Minimises -E_P[log sigmoid(D)] - E_Q[log(1 - sigmoid(D))].
  """
  return jnp.mean(optax.sigmoid_binary_cross_entropy(d_real, 1.0) +
                  optax.sigmoid_binary_cross_entropy(d_fake, 0.0))


def worst_case_generator_loss(adversary_term: Array, c_logits_fake: Array,
                              labels: Array, lam: float,
                              ce_weight: float | Array = 1.0) -> Array:
  """Negated generator objective of Eq. 10: -(lam * adversary + CE(C(G), y)).

  Args:
    adversary_term: per-sample term the generator maximises to stay near the
      data [B]: the critic score D(G(z,y),y) for the Wasserstein game, or
      log sigmoid(D(G(z,y),y)) for the JS game (non-saturating form).
    c_logits_fake: classifier logits on the generated images [B, K].
    labels: the labels the images were generated for [B].
    lam: lambda = 1 / epsilon, the Lagrange multiplier of the Wasserstein
      ball; large lam keeps Q close to the data, small lam lets it roam.
    ce_weight: weight of the classifier term (1 in Eq. 10; 0 turns G into
      a plain conditional GAN generator, e.g. during a warm-up or for GAN
      augmentation; -1 makes G help C, as Triple-GAN's generator does).
  """
  return -(lam * jnp.mean(adversary_term) +
           ce_weight * cross_entropy(c_logits_fake, labels))


def transport_cost(perturbed: Array, seeds: Array) -> Array:
  """Mean over the batch of ||x' - x||^2 / (pixels): the cost of moving
  each seed image x to x', the transport term of the Lagrangian in
  Eq. 4-5 (Sinha et al.'s WRM form), per pixel so that its weight does not
  depend on the image size."""
  return jnp.mean(jnp.square(perturbed - seeds))


def per_image_rms(x: Array, floor: float = 0.0) -> Array:
  """Root-mean-square of each image of a batch [B, ...] over its pixels,
  shaped [B, 1, ...] to scale the images by: the size in which the random
  control's noise is drawn and the per-sample G's residual is capped.
  `floor` > 0 is added under the square root, whose gradient is infinite
  at an all-zero image (and 0 * inf is NaN in a backward pass)."""
  axes = tuple(range(1, x.ndim))
  return jnp.sqrt(jnp.mean(jnp.square(x), axis=axes, keepdims=True) + floor)


def scaled_to_rms(x: Array, rms: float, floor: float = 0.0) -> Array:
  """Each image of `x` scaled, up or down, to root-mean-square `rms`
  (direction kept): the random control's noise and the per-sample G's
  residual at a set size. `floor` as in per_image_rms; with it an all-zero
  image stays zero with a finite gradient."""
  return x * (rms / per_image_rms(x, floor))


def classifier_loss(logits_fake: Array, labels_fake: Array,
                    logits_real: Array | None, labels_real: Array | None,
                    fake_weight: float | Array,
                    real_weight: float | Array) -> Array:
  """fake_weight * CE on Q + real_weight * CE on the real batch.

  Eq. 10 has only the generated term (fake_weight=1, real_weight=0; then
  logits_real may be None). Weights may be traced scalars.
  """
  loss = fake_weight * cross_entropy(logits_fake, labels_fake)
  if logits_real is not None:
    loss += real_weight * cross_entropy(logits_real, labels_real)
  return loss


# How a frozen reference classifier's opinion of a generated image weights
# that image's term in C's loss (issue 15's lever 5, after M2m's filter).
FAKE_FILTERS = ("none", "probability", "threshold")


def fidelity_weights(reference_logits: Array, labels: Array, mode: str,
                     threshold: float = 0.5) -> Array:
  """Per-sample weights [B] of generated images from a reference
  classifier's logits: "probability", its probability of the intended
  class (a sample that no longer looks like its class counts little);
  "threshold", 1 where that probability reaches `threshold`, else 0 (the
  sample is dropped, as M2m drops failed translations); "none", all 1."""
  if mode == "none":
    return jnp.ones(labels.shape, jnp.float32)
  probs = jnp.take_along_axis(jax.nn.softmax(reference_logits, axis=-1),
                              labels[:, None], axis=-1)[:, 0]
  if mode == "probability":
    return probs
  if mode == "threshold":
    return (probs >= threshold).astype(jnp.float32)
  raise ValueError(f"unknown fake filter {mode!r}; choose one of "
                   f"{FAKE_FILTERS}")


def weighted_cross_entropy(logits: Array, labels: Array,
                           weights: Array) -> Array:
  """sum_i w_i CE_i / B: mean cross-entropy with per-sample weights, over
  the whole batch (a dropped sample lowers the term, it does not raise the
  weight of the others)."""
  ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
  return jnp.mean(weights * ce)
