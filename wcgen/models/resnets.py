"""ResNets for 32x32 images: the paper's ResNet-101, the long-tail
literature's ResNet-32, and ResNet-18.

* `resnet32`: He et al. (2016)'s CIFAR ResNet (3 stages of 16/32/64
  channels, 5 basic blocks each, parameter-free "option A" shortcuts that
  subsample and zero-pad), as in the LDAM-DRW and CB-loss code: 0.46 M
  parameters for 10 classes.
* `resnet18`, `resnet101`: the ImageNet ResNets with a 3x3 stride-1 stem
  and no max-pool (the usual CIFAR adaptation): 11.2 M and 42.5 M
  parameters for 10 classes.

`use_batchnorm=False` removes every BatchNorm (convolutions then carry a
bias), for the paper's Table 5 ablation; weight decay is the optimiser's.
Calling with `return_features=True` also returns the pooled penultimate
features (t-SNE, FCD).
"""

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from wcgen.models import layers


class _Norm(nn.Module):
  """BatchNorm, or nothing when use_batchnorm is off."""
  use_batchnorm: bool = True

  @nn.compact
  def __call__(self, x, train: bool):
    if not self.use_batchnorm:
      return x
    return nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)


def _conv(features, kernel, strides, use_batchnorm, name=None):
  return nn.Conv(features, (kernel, kernel), (strides, strides),
                 padding=[(kernel // 2, kernel // 2)] * 2,
                 use_bias=not use_batchnorm, name=name)


class BasicBlock(nn.Module):
  features: int
  strides: int = 1
  use_batchnorm: bool = True
  shortcut: str = "projection"  # or "pad" (option A, no parameters)

  @nn.compact
  def __call__(self, x, train: bool):
    bn = self.use_batchnorm
    h = _conv(self.features, 3, self.strides, bn)(x)
    h = nn.relu(_Norm(bn)(h, train))
    h = _conv(self.features, 3, 1, bn)(h)
    h = _Norm(bn)(h, train)
    if x.shape[-1] != self.features or self.strides != 1:
      if self.shortcut == "pad":
        x = x[:, ::self.strides, ::self.strides]
        extra = self.features - x.shape[-1]
        x = jnp.pad(x, ((0, 0), (0, 0), (0, 0),
                        (extra // 2, extra - extra // 2)))
      else:
        x = _Norm(bn)(_conv(self.features, 1, self.strides, bn)(x), train)
    return nn.relu(h + x)


class Bottleneck(nn.Module):
  features: int  # output channels = 4 * features
  strides: int = 1
  use_batchnorm: bool = True

  @nn.compact
  def __call__(self, x, train: bool):
    bn = self.use_batchnorm
    h = nn.relu(_Norm(bn)(_conv(self.features, 1, 1, bn)(x), train))
    h = nn.relu(_Norm(bn)(_conv(self.features, 3, self.strides, bn)(h),
                          train))
    h = _Norm(bn)(_conv(4 * self.features, 1, 1, bn)(h), train)
    if x.shape[-1] != 4 * self.features or self.strides != 1:
      x = _Norm(bn)(_conv(4 * self.features, 1, self.strides, bn)(x), train)
    return nn.relu(h + x)


class ResNet(nn.Module):
  """Stem conv3x3, stages of blocks (the first block of stages 2+ halves
  the resolution), global average pooling, dense."""
  num_classes: int
  stage_sizes: Sequence[int]
  widths: Sequence[int]
  bottleneck: bool = False
  shortcut: str = "projection"
  use_batchnorm: bool = True
  head: str = "linear"  # the last layer (layers.classifier_head)

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True,
               return_features: bool = False):
    bn = self.use_batchnorm
    h = nn.relu(_Norm(bn)(_conv(self.widths[0], 3, 1, bn)(x), train))
    for stage, (blocks, width) in enumerate(zip(self.stage_sizes,
                                                self.widths)):
      for i in range(blocks):
        strides = 2 if stage > 0 and i == 0 else 1
        if self.bottleneck:
          h = Bottleneck(width, strides, bn)(h, train)
        else:
          h = BasicBlock(width, strides, bn, self.shortcut)(h, train)
    feats = jnp.mean(h, axis=(1, 2))
    logits = layers.classifier_head(self.head, self.num_classes)(feats)
    return (logits, feats) if return_features else logits


def resnet32(num_classes: int, use_batchnorm: bool = True,
             head: str = "linear") -> ResNet:
  return ResNet(num_classes, (5, 5, 5), (16, 32, 64), shortcut="pad",
                use_batchnorm=use_batchnorm, head=head)


def resnet18(num_classes: int, use_batchnorm: bool = True,
             head: str = "linear") -> ResNet:
  return ResNet(num_classes, (2, 2, 2, 2), (64, 128, 256, 512),
                use_batchnorm=use_batchnorm, head=head)


def resnet101(num_classes: int, use_batchnorm: bool = True,
              head: str = "linear") -> ResNet:
  return ResNet(num_classes, (3, 4, 23, 3), (64, 128, 256, 512),
                bottleneck=True, use_batchnorm=use_batchnorm, head=head)
