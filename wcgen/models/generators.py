"""Conditional generators G(z, y) that draw the worst-case distribution Q."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from wcgen import objectives
from wcgen.models import layers


class DCGANGenerator(nn.Module):
  """DCGAN-style conditional generator for 32x32 images in [-1, 1].

  The label enters as a one-hot vector concatenated to z (the conditioning
  of the conditional WGAN-GP the paper builds on) and, with
  `conditional_bn`, through every BatchNorm too. A 4x4 seed is doubled
  three times by 4x4 stride-2 transposed convolutions (computed by
  `layers.ConvTranspose4x4Stride2`, which is fast on CPU). Convolutions
  feeding a BatchNorm have no bias: its true gradient is zero, and Adam
  would turn the round-off into random steps.

  Attributes:
    num_classes: number of labels y can take.
    out_channels: 1 for grayscale, 3 for colour.
    width: channels of the last hidden layer; earlier ones are 2x and 4x.
    conditional_bn: also condition every BatchNorm on the label
      (`layers.ConditionalBatchNorm`), as cGAN-projection generators and
      BigGAN do, so the label reaches every layer, not only the input.
  """
  num_classes: int
  out_channels: int = 1
  width: int = 64
  conditional_bn: bool = False

  @nn.compact
  def __call__(self, z: jax.Array, labels: jax.Array,
               train: bool = True) -> jax.Array:
    def norm(x):
      if self.conditional_bn:
        return layers.ConditionalBatchNorm(self.num_classes)(x, labels, train)
      return nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)

    h = jnp.concatenate(
        [z, jax.nn.one_hot(labels, self.num_classes, dtype=z.dtype)], -1)
    h = nn.Dense(4 * 4 * 4 * self.width, use_bias=False)(h)
    h = nn.relu(norm(h)).reshape(z.shape[0], 4, 4, 4 * self.width)
    for mult in (2, 1):
      h = layers.ConvTranspose4x4Stride2(mult * self.width,
                                         use_bias=False)(h)
      h = nn.relu(norm(h))
    h = layers.ConvTranspose4x4Stride2(self.out_channels)(h)
    return jnp.tanh(h)


class ResidualPerturber(nn.Module):
  """A per-sample generator G(x_i, y_i, z): Eq. 8's conditional Q_i.

  The paper factors the worst-case distribution through conditionals Q_i
  given each training pair (x_i, y_i) (Eq. 8) before simplifying it to
  G(z, y). This parameterises Q_i directly (our reading of Eq. 8, not the
  paper's experiment): G takes a real seed image, its label and noise, and
  returns the seed plus a bounded residual,

    G(x, y, z) = clip(x + bound * tanh(r(x, y, z)), -1, 1),

  where r is a small U-Net whose last layer starts at zero, so G is the
  identity at initialisation and its samples carry their class from step
  0. Two 4x4 stride-2 convolutions encode x (32 -> 8 px), z and the label
  enter at the bottleneck, two transposed convolutions decode with a skip
  connection at 16 px. No BatchNorm: each sample's perturbation depends on
  its own seed only. `bound` caps a pixel's change (images are in [-1, 1]);
  the Wasserstein ball itself is enforced by the critic (and, optionally,
  the game's transport cost).

  `max_rms` > 0 also makes the ball a hard one, per sample: a residual
  whose root-mean-square over the image exceeds it is scaled down to it
  (its direction kept). Every Q_i then lies within W_2 <= max_rms *
  sqrt(pixels) of its seed, so Q does too, whatever the critic and the
  Lagrangian weights do; issue 16's running-BN game showed why this is
  wanted: G's residual stayed at RMS ~0.09 for 2,000 steps, then grew to
  0.24 and C's clean validation accuracy fell by 6 points.

  `rms_mode` "fixed" (with `max_rms` > 0) scales every residual to that
  RMS instead, up as well as down: G then chooses only the direction of
  each sample's move, its size is set (below max_rms only where `bound` or
  the [-1, 1] range clips a pixel). Issue 15's games moved either a
  little (RMS 0.01-0.07, level with the unperturbed seeds) or off the data
  (RMS >= 0.3, below them); a set size between the two is the worst
  direction at that size, beside random noise of the same RMS (lever 6's
  control).

  Attributes:
    num_classes: number of labels.
    out_channels: channels of the images (1 or 3).
    width: channels at 16 px; 2x at 8 px.
    bound: largest change of one pixel, in [-1, 1] units.
    max_rms: largest root-mean-square change of one image (0: no cap).
    rms_mode: "cap" (residuals above max_rms scaled down to it) or "fixed"
      (every residual scaled to it).
  """
  num_classes: int
  out_channels: int = 1
  width: int = 32
  bound: float = 0.5
  max_rms: float = 0.0
  rms_mode: str = "cap"

  # The game passes seed images to generators that set this.
  takes_seed_images = True

  @nn.compact
  def __call__(self, z: jax.Array, labels: jax.Array, train: bool = True, *,
               seeds: jax.Array) -> jax.Array:
    del train  # no BatchNorm, no dropout
    e1 = nn.leaky_relu(layers.Conv4x4Stride2(self.width)(seeds), 0.2)
    e2 = nn.leaky_relu(layers.Conv4x4Stride2(2 * self.width)(e1), 0.2)
    code = jnp.concatenate(
        [z, jax.nn.one_hot(labels, self.num_classes, dtype=z.dtype)], -1)
    h = e2 + nn.Dense(2 * self.width)(code)[:, None, None, :]
    h = nn.leaky_relu(layers.ConvTranspose4x4Stride2(self.width)(h), 0.2)
    h = jnp.concatenate([h, e1], -1)
    r = layers.ConvTranspose4x4Stride2(
        self.out_channels, kernel_init=nn.initializers.zeros)(h)
    moved = jnp.clip(seeds + self.bound * jnp.tanh(r), -1.0, 1.0)
    if not self.max_rms:
      return moved
    if self.rms_mode == "fixed":
      # The same floor as cap_rms: G starts at a zero residual.
      residual = jnp.clip(
          objectives.scaled_to_rms(moved - seeds, self.max_rms, floor=1e-12),
          -self.bound, self.bound)
      return jnp.clip(seeds + residual, -1.0, 1.0)
    return seeds + cap_rms(moved - seeds, self.max_rms)


def cap_rms(residual: jax.Array, max_rms: float) -> jax.Array:
  """`residual` with each sample's root-mean-square scaled down to at most
  `max_rms` (direction kept; samples already inside are unchanged).
  Scaling toward zero keeps seed + residual inside [-1, 1] when both ends
  were. The square root's gradient at an all-zero residual (G's start) is
  kept finite by a tiny floor inside it."""
  rms = objectives.per_image_rms(residual, floor=1e-12)
  return residual * jnp.minimum(1.0, max_rms / rms)

