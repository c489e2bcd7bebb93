"""BigGAN for 32x32 colour images (Brock et al. 2019, CIFAR configuration):
the generator and projection discriminator the paper uses on CIFAR-10.

* Every convolution, dense layer and the projection embedding is spectrally
  normalised (flax's `nn.SpectralNorm`; one power iteration per update, its
  vectors in the `batch_stats` collection).
* Generator: z -> dense 4x4x(4 ch) -> three residual up-blocks (class-
  conditional BatchNorm, ReLU, nearest 2x upsampling, 3x3 convolutions;
  1x1 convolution on the upsampled shortcut) -> BatchNorm, ReLU, 3x3
  convolution, tanh. The label enters through the conditional BatchNorms'
  gains and biases (one embedding per block, 1 + gain).
* Discriminator: four residual down-blocks (pre-activation; the first
  without the leading ReLU; average pooling in the first two), ReLU, global
  sum pooling, a dense output plus the projection embed(y) . phi(x). No
  BatchNorm, so the WGAN-GP penalty stays per sample.

`ch` is BigGAN's width multiplier (64 in its CIFAR configuration: 256
channels in every block). Call the discriminator with update_stats=True
once per critic update to advance the power iteration.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp

from wcgen.models import layers


def _sn(layer):
  return nn.SpectralNorm(layer)


class GeneratorBlock(nn.Module):
  features: int
  num_classes: int

  @nn.compact
  def __call__(self, x, labels, train: bool):
    upd = train  # power iteration advances with training steps
    cbn = lambda: layers.ConditionalBatchNorm(self.num_classes)
    h = nn.relu(cbn()(x, labels, train))
    h = layers.upsample_nearest_2x(h)
    h = _sn(nn.Conv(self.features, (3, 3)))(h, update_stats=upd)
    h = nn.relu(cbn()(h, labels, train))
    h = _sn(nn.Conv(self.features, (3, 3)))(h, update_stats=upd)
    shortcut = _sn(nn.Conv(self.features, (1, 1)))(
        layers.upsample_nearest_2x(x), update_stats=upd)
    return h + shortcut


class BigGANGenerator(nn.Module):
  """G(z, y) -> images [B, 32, 32, out_channels] in [-1, 1]."""
  num_classes: int
  out_channels: int = 3
  ch: int = 64

  @nn.compact
  def __call__(self, z, labels, train: bool = True):
    width = 4 * self.ch
    h = _sn(nn.Dense(4 * 4 * width))(z, update_stats=train)
    h = h.reshape(z.shape[0], 4, 4, width)
    for _ in range(3):  # 4 -> 8 -> 16 -> 32
      h = GeneratorBlock(width, self.num_classes)(h, labels, train)
    h = nn.relu(nn.BatchNorm(use_running_average=not train, momentum=0.9)(h))
    h = _sn(nn.Conv(self.out_channels, (3, 3)))(h, update_stats=train)
    return jnp.tanh(h)


class DiscriminatorBlock(nn.Module):
  features: int
  downsample: bool
  preactivation: bool = True

  @nn.compact
  def __call__(self, x, update_stats: bool):
    h = nn.relu(x) if self.preactivation else x
    h = _sn(nn.Conv(self.features, (3, 3)))(h, update_stats=update_stats)
    h = _sn(nn.Conv(self.features, (3, 3)))(nn.relu(h),
                                             update_stats=update_stats)
    shortcut = x
    if self.preactivation:  # BigGAN: 1x1 conv, then pool
      if x.shape[-1] != self.features or self.downsample:
        shortcut = _sn(nn.Conv(self.features, (1, 1)))(
            x, update_stats=update_stats)
      if self.downsample:
        h, shortcut = layers.avg_pool_2x2(h), layers.avg_pool_2x2(shortcut)
    else:  # the first block: pool, then 1x1 conv
      if self.downsample:
        h, shortcut = layers.avg_pool_2x2(h), layers.avg_pool_2x2(shortcut)
      shortcut = _sn(nn.Conv(self.features, (1, 1)))(
          shortcut, update_stats=update_stats)
    return h + shortcut


class BigGANDiscriminator(nn.Module):
  """D(x, y) -> scores [B]; a projection discriminator without BatchNorm."""
  num_classes: int
  ch: int = 64

  @nn.compact
  def __call__(self, x, labels, update_stats: bool = False):
    width = 4 * self.ch
    h = x
    for i, down in enumerate((True, True, False, False)):
      h = DiscriminatorBlock(width, down, preactivation=i > 0)(h,
                                                              update_stats)
    phi = jnp.sum(nn.relu(h), axis=(1, 2))
    out = _sn(nn.Dense(1))(phi, update_stats=update_stats)[:, 0]
    embed = _sn(nn.Embed(self.num_classes, width))(labels,
                                                   update_stats=update_stats)
    return out + jnp.sum(embed * phi, axis=-1)
