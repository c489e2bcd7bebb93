"""Empirical risk minimisation: the plain classifier baseline.

Same classifier, optimiser, data and number of steps as the worst-case
game, so that the two are compared on equal terms.
"""

import dataclasses
from typing import Callable, Dict, Tuple

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from wcgen import objectives
from wcgen.train.state import PlayerState, accuracy, apply_with_stats

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

  def sample(self, state, key, labels):
    """ERM has no generator."""
    return None

  def train_step(self, state: ClassifierState,
                 batch: Batch) -> Tuple[ClassifierState, Dict[str, jax.Array]]:
    key = jax.random.fold_in(state.rng, state.step)

    def loss_fn(params):
      variables = dict(state.classifier.variables, params=params)
      logits, stats = apply_with_stats(self.classifier, variables,
                                       batch["image"], train=True,
                                       rngs={"dropout": key})
      loss = self.loss_fn(logits, batch["label"], state.step)
      return loss, (stats, {"c_loss": loss,
                            "c_acc_real": accuracy(logits, batch["label"])})

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(
        state.classifier.params)
    classifier = state.classifier.apply_gradients(grads, self.classifier_tx,
                                                  stats)
    return state.replace(step=state.step + 1, classifier=classifier), metrics
