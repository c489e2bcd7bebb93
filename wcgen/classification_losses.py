"""Classifier losses for long-tailed data, as pure functions.

Shapes: logits [B, K], labels [B] int, class_counts [K] (training images per
class). Each loss returns a scalar mean over the batch.

* class-balanced loss (Cui et al., CVPR 2019): weights from the effective
  number of samples, E_n = (1 - beta^n) / (1 - beta), w_c ∝ 1 / E_{n_c},
  normalised to sum to K; softmax, sigmoid and focal forms.
* logit adjustment (Menon et al., ICLR 2021): CE(logits + tau log pi, y),
  and the post-hoc form argmax(logits - tau log pi).
* balanced softmax (Ren et al., NeurIPS 2020): CE(logits + log n_c, y).
* LDAM (Cao et al., NeurIPS 2019): subtract the margin
  m_c = max_margin * (n_min / n_c)^(1/4) from the true-class logit, scale
  by s; with deferred re-weighting (DRW) the class-balanced weights
  (beta = 0.9999) switch on at a given step.
"""

import dataclasses
from typing import Callable, Optional

import jax
import jax.numpy as jnp
import numpy as np
import optax

from wcgen import objectives
from wcgen.errors import ConfigError
from wcgen.errors import check_one_of

Array = jax.Array
LossFn = Callable[[Array, Array, Array], Array]  # (logits, labels, step)

LOSSES = ("ce", "class_balanced", "logit_adjusted", "balanced_softmax", "ldam")


def effective_number_weights(class_counts, beta: float) -> np.ndarray:
  """w_c = (1 - beta) / (1 - beta^{n_c}), scaled so that sum_c w_c = K."""
  counts = np.asarray(class_counts, np.float64)
  weights = (1.0 - beta) / (1.0 - np.power(beta, counts))
  return (weights / weights.sum() * len(counts)).astype(np.float32)


def log_prior(class_counts) -> np.ndarray:
  """log pi_c, the log of the training label frequencies."""
  counts = np.asarray(class_counts, np.float64)
  return np.log(counts / counts.sum()).astype(np.float32)


def weighted_cross_entropy(logits: Array, labels: Array,
                           class_weights: Optional[Array] = None) -> Array:
  """mean_i w_{y_i} CE_i (plain CE when class_weights is None)."""
  ce = optax.softmax_cross_entropy_with_integer_labels(logits, labels)
  if class_weights is None:
    return jnp.mean(ce)
  return jnp.mean(jnp.asarray(class_weights)[labels] * ce)


def class_balanced_loss(logits: Array, labels: Array, class_counts,
                        beta: float = 0.9999, kind: str = "softmax",
                        gamma: float = 1.0) -> Array:
  """Class-balanced loss; kind is 'softmax', 'sigmoid' or 'focal'.

  The sigmoid and focal forms sum the per-class binary losses of a sample
  (one-vs-all, as in Cui et al.) and weight the sample by w_{y}.
  """
  weights = jnp.asarray(effective_number_weights(class_counts, beta))
  if kind == "softmax":
    return weighted_cross_entropy(logits, labels, weights)
  targets = jax.nn.one_hot(labels, logits.shape[-1])
  bce = optax.sigmoid_binary_cross_entropy(logits, targets)
  if kind == "focal":
    p = jax.nn.sigmoid(logits)
    p_t = targets * p + (1 - targets) * (1 - p)
    bce = (1 - p_t) ** gamma * bce
  elif kind != "sigmoid":
    raise ValueError(f"kind must be softmax, sigmoid or focal, got {kind!r}")
  return jnp.mean(weights[labels] * jnp.sum(bce, -1))


def logit_adjusted_loss(logits: Array, labels: Array, class_counts,
                        tau: float = 1.0) -> Array:
  """CE(logits + tau * log pi, y)."""
  offset = jnp.asarray(tau * log_prior(class_counts))
  return weighted_cross_entropy(logits + offset, labels)


def balanced_softmax_loss(logits: Array, labels: Array,
                          class_counts) -> Array:
  """CE(logits + log n_c, y): logit adjustment with tau = 1."""
  return logit_adjusted_loss(logits, labels, class_counts, 1.0)


def ldam_margins(class_counts, max_margin: float = 0.5) -> np.ndarray:
  """m_c proportional to n_c^(-1/4), the largest margin being max_margin."""
  m = np.power(np.asarray(class_counts, np.float64), -0.25)
  return (m * (max_margin / m.max())).astype(np.float32)


def ldam_loss(logits: Array, labels: Array, class_counts,
              max_margin: float = 0.5, scale: float = 30.0,
              class_weights: Optional[Array] = None) -> Array:
  """LDAM: CE(s * (logits - m_y onehot(y)), y), optionally re-weighted."""
  margins = jnp.asarray(ldam_margins(class_counts, max_margin))
  adjusted = logits - jax.nn.one_hot(labels, logits.shape[-1]) * margins[
      labels][:, None]
  return weighted_cross_entropy(scale * adjusted, labels, class_weights)


@dataclasses.dataclass(frozen=True)
class LossSpec:
  """Which classifier loss, and its own parameters (nothing else of a
  config: `methods.loss_spec` reads them from one)."""
  name: str = "ce"  # one of LOSSES
  cb_beta: float = 0.9999
  cb_kind: str = "softmax"  # "sigmoid", "focal"
  focal_gamma: float = 1.0
  la_tau: float = 1.0
  ldam_max_margin: float = 0.5
  ldam_scale: float = 30.0
  drw_start_step: int = -1  # LDAM's deferred re-weighting; -1 off

  def __post_init__(self):
    """One line per bad field, named as config.loss names it."""
    check_one_of("loss.name", self.name, LOSSES)
    check_one_of("loss.cb_kind", self.cb_kind, ("softmax", "sigmoid",
                                                "focal"))
    if not 0 <= self.cb_beta < 1:
      raise ConfigError(f"loss.cb_beta must be in [0, 1), got {self.cb_beta}")


def make_loss(spec: LossSpec, class_counts) -> LossFn:
  """The classifier loss `spec` names, as fn(logits, labels, step)."""
  name = spec.name
  if name == "ce":
    return objectives.step_cross_entropy
  if class_counts is None:  # a method built for evaluation, not training
    def needs_counts(z, y, step):
      del z, y, step
      raise ConfigError(f"loss.name={name!r} needs the training set's "
                        "class counts: pass class_counts to methods.create")
    return needs_counts
  counts = np.asarray(class_counts)
  if name == "class_balanced":
    return lambda z, y, step: class_balanced_loss(
        z, y, counts, spec.cb_beta, spec.cb_kind, spec.focal_gamma)
  if name == "logit_adjusted":
    return lambda z, y, step: logit_adjusted_loss(z, y, counts, spec.la_tau)
  if name == "balanced_softmax":
    return lambda z, y, step: balanced_softmax_loss(z, y, counts)
  if name == "ldam":
    drw = jnp.asarray(effective_number_weights(counts, 0.9999))

    def ldam(z, y, step):
      on = (step >= spec.drw_start_step) & (spec.drw_start_step >= 0)
      weights = jnp.where(on, drw, jnp.ones_like(drw))
      return ldam_loss(z, y, counts, spec.ldam_max_margin,
                       spec.ldam_scale, weights)
    return ldam
  raise ValueError(f"unknown classifier_loss {name!r}; choose one of "
                   f"{list(LOSSES)}")


def posthoc_offset(tau: float, class_counts) -> np.ndarray:
  """What evaluation subtracts from the logits (post-hoc logit adjustment):
  tau * log pi."""
  return (tau * log_prior(class_counts)).astype(np.float32)
