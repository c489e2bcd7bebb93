"""What the driver, evaluation, feature plots and sample grids need of a
training method: `Method`, a typing.Protocol that `ERM` and
`WorstCaseGame` satisfy (tests/test_methods.py checks it)."""

from typing import Any, Dict, Optional, Protocol, Tuple, runtime_checkable

import jax

State = Any  # a pytree with a `.step` and a `.classifier` PlayerState
Batch = Dict[str, jax.Array]


@runtime_checkable
class Method(Protocol):
  """A method: its state, its one jitted step, and the classifier it
  trains.

  Attributes:
    needs_balanced_batch: train_step reads batch["balanced_image"] and
      batch["balanced_label"], a class-balanced companion of the training
      batch; the driver then provides it.
    has_generator: the method trains a generator, so `sample` draws from
      it (sample grids, FID, feature plots); without one, `sample` raises.
    per_sample: `sample` perturbs seed images (Eq. 8's G(x_i, y_i, z))
      rather than drawing from noise alone.
    frozen_warmup_steps: the driver runs `classifier_only_step` instead of
      `train_step` for the steps before this one (0: never).
  """

  @property
  def needs_balanced_batch(self) -> bool:
    ...

  @property
  def has_generator(self) -> bool:
    ...

  @property
  def per_sample(self) -> bool:
    ...

  @property
  def frozen_warmup_steps(self) -> int:
    ...

  def init(self, rng: jax.Array, image_shape: Tuple[int, int, int]) -> State:
    """The initial state for images of `image_shape` (H, W, C)."""

  def train_step(self, state: State,
                 batch: Batch) -> Tuple[State, Dict[str, jax.Array]]:
    """One update; pure, so that the driver can jit it once."""

  def classifier_logits(self, state: State, images: jax.Array) -> jax.Array:
    """The classifier in inference mode: what evaluation scores."""

  def classifier_features(self, state: State,
                          images: jax.Array) -> jax.Array:
    """The classifier's penultimate features in inference mode (t-SNE
    pictures, the FCD)."""

  def sample(self, state: State, key: jax.Array, labels: jax.Array,
             seeds: Optional[jax.Array] = None) -> jax.Array:
    """Images of the method's generator for `labels` (around `seeds`, real
    images of those labels, when per_sample); only when has_generator."""
