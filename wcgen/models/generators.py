"""Conditional generators G(z, y) that draw the worst-case distribution Q."""

import flax.linen as nn
import jax
import jax.numpy as jnp

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
