"""Worst cases in the classifier's feature space rather than in pixels.

Issue 15's next lever: every pixel-space worst case so far either stayed
too small to matter (the per-sample G within its bound) or left its class
(the paper's G(z, y)). Here the perturbation acts on the penultimate
features h_i that C's linear head reads, logits = h W + b: each companion
row's h_i moves by a vector of L2 norm `size * ||h_i||` (a fraction of its
own norm, so the knob does not depend on the features' scale), either in
the direction that raises that row's cross-entropy fastest (the
first-order worst case inside that L2 ball, the one-step form of Sinha
et al.'s WRM taken in feature space) or in a random direction of the same
norm (its control). The perturbation is a constant for C's gradient, as
the pixel-space worst cases are; the gradient reaches the features and the
head through h_i + delta_i.

No model changes: `head_input_perturbation` returns a flax method
interceptor (`nn.intercept_methods`) that perturbs the input of the
classifier's head, its one `nn.Dense` with `num_classes` outputs (every
classifier of wcgen.models with the default linear head ends in exactly
one, `nn.Dense(num_classes)(feats)`, and has no other Dense layer; the
cosine head is LDAM's, allowed only with plain ERM, which has no
companion batch to perturb).
"""

from typing import Callable, Sequence, Union

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from wcgen.models import layers

FEATURE_PERTURBATIONS = ("feature_random", "feature_adversarial")


def class_radius_scale(class_counts: Sequence[int],
                       power: float) -> np.ndarray:
  """Per-class multipliers of the radius, proportional to n_y^-power and
  of mean 1 over the classes, so that on a class-balanced batch the mean
  radius is the configured one: the rare classes get a larger ball, the
  frequent ones a smaller one (power 1/4 is LDAM's margin rule, Cao et al.
  2019). power 0: every class 1."""
  counts = np.asarray(class_counts, np.float64)
  if counts.ndim != 1 or not np.all(counts > 0):
    raise ValueError(f"class_counts must be positive, one per class; got "
                     f"{class_counts!r}")
  scale = counts ** -float(power)
  return (scale / scale.mean()).astype(np.float32)


def head_input_perturbation(num_classes: int, labels: jax.Array,
                            size: Union[float, jax.Array], kind: str,
                            key: jax.Array,
                            first_row: int = 0) -> Callable:
  """An interceptor for `nn.intercept_methods` that perturbs the head's
  input rows `first_row:` (the companion rows of a joint pass; 0 for a
  pass over the companion batch alone), whose labels are `labels`.

  kind: "feature_adversarial", delta_i along dCE_i/dh_i = W (p_i - e_y_i)
  (exact for the linear head: no second pass through the network), or
  "feature_random", along a standard normal direction; either way
  ||delta_i|| = size_i * ||h_i||, where size is one number for every row
  or one per perturbed row (a per-class radius, `class_radius_scale`).
  """
  if kind not in FEATURE_PERTURBATIONS:
    raise ValueError(f"kind must be one of {FEATURE_PERTURBATIONS}, got "
                     f"{kind!r}")

  def interceptor(next_fun, args, kwargs, context):
    module = context.module
    if not (isinstance(module, nn.Dense) and module.features == num_classes
            and context.method_name == "__call__"):
      return next_fun(*args, **kwargs)
    h = args[0]
    rows = h[first_row:]
    rows32 = rows.astype(jnp.float32)
    if kind == "feature_adversarial":
      # The head by hand (a second call of a compact module inside its own
      # call would recreate its parameters).
      params = module.variables["params"]
      kernel = params["kernel"].astype(jnp.float32)  # [D, K]
      logits = rows32 @ kernel
      if "bias" in params:
        logits += params["bias"].astype(jnp.float32)
      probs = jax.nn.softmax(logits, -1)
      direction = (probs - jax.nn.one_hot(labels, num_classes)) @ kernel.T
    else:
      direction = jax.random.normal(key, rows.shape, jnp.float32)
    # Tiny floors: a zero gradient (a row fitted exactly) or zero features
    # leave the row where it is instead of dividing by zero.
    unit = layers.unit_rows(direction)
    row_size = size if jnp.ndim(size) == 0 else jnp.reshape(
        jnp.asarray(size, jnp.float32), (-1, 1))
    delta = row_size * jnp.linalg.norm(rows32, axis=-1, keepdims=True) * unit
    delta = jax.lax.stop_gradient(delta).astype(h.dtype)
    h = jnp.concatenate([h[:first_row], rows + delta])
    return next_fun(h, *args[1:], **kwargs)

  return interceptor
