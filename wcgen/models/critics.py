"""Conditional critics D(x, y): the Wasserstein (or JS) side of the game."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from wcgen.models import layers


class ProjectionCritic(nn.Module):
  """DCGAN-style critic with a projection term (Miyato & Koyama 2018).

  D(x, y) = w . phi(x) + embed(y) . phi(x). No BatchNorm: WGAN-GP's
  per-sample gradient penalty is wrong when samples interact through batch
  statistics. Returns one unnormalised score per image, shape [B].

  Attributes:
    num_classes: number of labels.
    width: channels of the first layer; then 2x and 4x.
  """
  num_classes: int
  width: int = 64

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array) -> jax.Array:
    h = x
    for mult in (1, 2, 4):
      h = layers.Conv4x4Stride2(mult * self.width)(h)
      h = nn.leaky_relu(h, 0.2)
    phi = jnp.sum(h, axis=(1, 2))  # global sum pooling, [B, 4 * width]
    out = nn.Dense(1)(phi)[:, 0]
    embed = nn.Embed(self.num_classes, phi.shape[-1])(labels)
    return out + jnp.sum(embed * phi, axis=-1)
