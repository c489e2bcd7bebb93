"""VGG-16 for 32x32 images (Simonyan & Zisserman 2015), the paper's other
CIFAR-10/SVHN classifier, in its usual CIFAR form: the 13 convolutions of
configuration D with BatchNorm, five 2x2 max-pools down to 1x1x512, and one
dense layer (14.7 M parameters for 10 classes). `use_batchnorm=False` for
the ablation."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from wcgen.models import layers

# Channels of each convolution; "M" is a 2x2 max-pool.
VGG16 = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
         512, 512, 512, "M")


class VGG(nn.Module):
  num_classes: int
  use_batchnorm: bool = True
  layout: tuple = VGG16
  head: str = "linear"  # the last layer (layers.classifier_head)

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True,
               return_features: bool = False):
    h = x
    for item in self.layout:
      if item == "M":
        h = layers.max_pool_2x2(h)
        continue
      h = nn.Conv(item, (3, 3), padding="SAME",
                  use_bias=not self.use_batchnorm)(h)
      if self.use_batchnorm:
        h = nn.BatchNorm(use_running_average=not train, momentum=0.9)(h)
      h = nn.relu(h)
    feats = jnp.mean(h, axis=(1, 2))  # 1x1 after five pools at 32 px
    logits = layers.classifier_head(self.head, self.num_classes)(feats)
    return (logits, feats) if return_features else logits


def vgg16(num_classes: int, use_batchnorm: bool = True,
          head: str = "linear") -> VGG:
  return VGG(num_classes, use_batchnorm, head=head)
