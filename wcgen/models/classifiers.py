"""Classifiers C(x): the player the worst-case game makes robust."""

import flax.linen as nn
import jax
import jax.numpy as jnp

from wcgen.models import layers


class TripleGANCNN(nn.Module):
  """CNN comparable to Triple-GAN's MNIST classifier (Li et al. 2017).

  conv5x5-32, pool, conv3x3-64 x2, pool, conv3x3-128 x2, global average
  pooling, dense; BatchNorm and dropout as in that model. `use_batchnorm`
  allows the paper's Table 5 ablation.

  Attributes:
    num_classes: number of outputs.
    dropout_rate: dropout after each pooling stage.
    use_batchnorm: BatchNorm after every convolution.
    head: the last layer, "linear" or "cosine" (layers.classifier_head).
  """
  num_classes: int
  dropout_rate: float = 0.2
  use_batchnorm: bool = True
  head: str = "linear"

  @nn.compact
  def __call__(self, x: jax.Array, train: bool = True,
               return_features: bool = False) -> jax.Array:
    def conv_block(h, features, kernel):
      h = nn.Conv(features, (kernel, kernel), padding="SAME",
                  use_bias=not self.use_batchnorm)(h)
      if self.use_batchnorm:
        h = nn.BatchNorm(use_running_average=not train, momentum=0.9)(h)
      return nn.leaky_relu(h, 0.1)

    h = conv_block(x, 32, 5)
    h = nn.Dropout(self.dropout_rate, deterministic=not train)(
        layers.max_pool_2x2(h))
    h = conv_block(conv_block(h, 64, 3), 64, 3)
    h = nn.Dropout(self.dropout_rate, deterministic=not train)(
        layers.max_pool_2x2(h))
    h = conv_block(conv_block(h, 128, 3), 128, 3)
    feats = jnp.mean(h, axis=(1, 2))
    logits = layers.classifier_head(self.head, self.num_classes)(feats)
    # Penultimate features [B, 128] serve t-SNE plots and the FCD.
    return (logits, feats) if return_features else logits
