"""mixup (Zhang et al., ICLR 2018): train on convex combinations of pairs.

x = lam * x_i + (1 - lam) * x_j and the loss lam * L(y_i) + (1 - lam) *
L(y_j), lam ~ Beta(alpha, alpha) once per batch, j a random permutation of
the batch. Writing the loss as a mix of two label losses (not one soft
label) lets any of wcgen's classification losses (class-balanced, logit
adjusted, LDAM) combine with mixup; for cross-entropy the two are equal.
"""

from typing import Callable, Tuple

import jax


def mix_batch(key: jax.Array, images: jax.Array, labels: jax.Array,
              alpha: float) -> Tuple[jax.Array, jax.Array, jax.Array]:
  """(mixed images, partner labels y_j, lam)."""
  k_lam, k_perm = jax.random.split(key)
  lam = jax.random.beta(k_lam, alpha, alpha)
  perm = jax.random.permutation(k_perm, images.shape[0])
  mixed = lam * images + (1.0 - lam) * images[perm]
  return mixed, labels[perm], lam


def mixed_loss(loss_fn: Callable, logits: jax.Array, labels: jax.Array,
               partner_labels: jax.Array, lam: jax.Array,
               step: jax.Array) -> jax.Array:
  """lam * loss_fn(y) + (1 - lam) * loss_fn(y_j)."""
  return (lam * loss_fn(logits, labels, step) +
          (1.0 - lam) * loss_fn(logits, partner_labels, step))
