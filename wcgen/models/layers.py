"""Small layers shared by the generators, critics and classifiers.

Pooling and upsampling are written as reshapes so that XLA:CPU lowers them
(and their gradients) to plain elementwise work instead of the slow generic
reduce-window path.
"""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np


def max_pool_2x2(x: jax.Array) -> jax.Array:
  """2x2 max pooling with stride 2 on NHWC; H and W must be even.

  An elementwise maximum of the window's four corners, not `jnp.max` over
  a reshape: the gradient of a max reduction divides by the number of
  window entries equal to the result, and where XLA recomputes the input
  in the backward pass with other rounding (it did at
  --xla_backend_optimization_level=0) that number is 0 and the gradient
  NaN. `jnp.maximum`'s gradient divides by 1 or 2, so it stays finite;
  without ties it is the same one-hot gradient, bit for bit at XLA's
  default level (a tie shares the gradient, in halves at each of the two
  levels of maxima, where the reduction shared it evenly).
  """
  b, h, w, c = x.shape
  x = x.reshape(b, h // 2, 2, w // 2, 2, c)
  return jnp.maximum(jnp.maximum(x[:, :, 0, :, 0], x[:, :, 0, :, 1]),
                     jnp.maximum(x[:, :, 1, :, 0], x[:, :, 1, :, 1]))


def avg_pool_2x2(x: jax.Array) -> jax.Array:
  """2x2 average pooling with stride 2 on NHWC; H and W must be even."""
  b, h, w, c = x.shape
  return jnp.mean(x.reshape(b, h // 2, 2, w // 2, 2, c), axis=(2, 4))


def upsample_nearest_2x(x: jax.Array) -> jax.Array:
  """Nearest-neighbour 2x upsampling on NHWC."""
  b, h, w, c = x.shape
  x = jnp.broadcast_to(x[:, :, None, :, None, :], (b, h, 2, w, 2, c))
  return x.reshape(b, 2 * h, 2 * w, c)


# --------------------------------------------------------------------------
# 4x4 stride-2 convolutions routed onto stride-1 convolutions.
#
# XLA:CPU computes the weight gradient of a stride-2 (transposed)
# convolution tens of times slower than its forward pass, and the gradient
# penalty's double backward through the critic hits the same path. The two
# modules below hold exactly the parameters of `nn.Conv(4x4, stride 2,
# 'SAME')` and `nn.ConvTranspose(4x4, stride 2, 'SAME')` and compute exactly
# the same function, but as one stride-1 3x3 convolution on a space-to-depth
# (or followed by a depth-to-space) rearrangement, whose kernel is gathered
# from the 4x4 kernel. Every gradient then runs on XLA:CPU's fast
# convolution paths. tests/test_layers.py checks values and gradients
# against the flax layers.
# --------------------------------------------------------------------------

# _CONV_TAPS[i, p, a] = 1 when tap a of a 4-tap stride-2 'SAME' convolution
# reads phase p of block (output + i - 1).
_CONV_TAPS = np.zeros((3, 2, 4), np.float32)
for _a, (_d, _p) in enumerate([(-1, 1), (0, 0), (0, 1), (1, 0)]):
  _CONV_TAPS[_d + 1, _p, _a] = 1.0
# _TCONV_TAPS[i, q, a] = 1 when output phase q of a 4-tap stride-2 'SAME'
# transposed convolution reads input (block + i - 1) through tap a.
_TCONV_TAPS = np.zeros((3, 2, 4), np.float32)
for _a, (_d, _q) in enumerate([(-1, 0), (0, 1), (0, 0), (1, 1)]):
  _TCONV_TAPS[_d + 1, _q, _a] = 1.0


def space_to_depth_2x(x: jax.Array) -> jax.Array:
  """[B, H, W, C] -> [B, H/2, W/2, 4C], channels ordered (row, col, c)."""
  b, h, w, c = x.shape
  x = x.reshape(b, h // 2, 2, w // 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, h // 2, w // 2, 4 * c)


def depth_to_space_2x(x: jax.Array) -> jax.Array:
  """[B, H, W, 4C] -> [B, 2H, 2W, C]; inverse of `space_to_depth_2x`."""
  b, h, w, c4 = x.shape
  c = c4 // 4
  x = x.reshape(b, h, w, 2, 2, c).transpose(0, 1, 3, 2, 4, 5)
  return x.reshape(b, 2 * h, 2 * w, c)


def _conv3x3(x, kernel):
  return jax.lax.conv_general_dilated(
      x, kernel, (1, 1), ((1, 1), (1, 1)),
      dimension_numbers=("NHWC", "HWIO", "NHWC"))


class _Stride2Kernel4x4(nn.Module):
  """The parameters of a 4x4 stride-2 (transposed) convolution, as flax's."""
  features: int
  use_bias: bool = True
  kernel_init: nn.initializers.Initializer = nn.initializers.lecun_normal()

  def _kernel(self, cin: int) -> jax.Array:
    return self.param("kernel", self.kernel_init, (4, 4, cin, self.features),
                      jnp.float32)

  def _add_bias(self, y: jax.Array) -> jax.Array:
    if not self.use_bias:
      return y
    bias = self.param("bias", nn.initializers.zeros, (self.features,),
                      jnp.float32)
    return y + bias.astype(y.dtype)


class Conv4x4Stride2(_Stride2Kernel4x4):
  """Drop-in for `nn.Conv(features, (4, 4), (2, 2), padding='SAME')`."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    cin = x.shape[-1]
    taps = jnp.asarray(_CONV_TAPS, jnp.float32)
    k3 = jnp.einsum("ipa,jqb,abco->ijpqco", taps, taps, self._kernel(cin))
    k3 = k3.reshape(3, 3, 4 * cin, self.features)
    return self._add_bias(_conv3x3(space_to_depth_2x(x), k3.astype(x.dtype)))


class ConvTranspose4x4Stride2(_Stride2Kernel4x4):
  """Drop-in for `nn.ConvTranspose(features, (4, 4), (2, 2), 'SAME')`."""

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    cin = x.shape[-1]
    taps = jnp.asarray(_TCONV_TAPS, jnp.float32)
    k3 = jnp.einsum("ipa,jqb,abco->ijcpqo", taps, taps, self._kernel(cin))
    k3 = k3.reshape(3, 3, cin, 4 * self.features)
    return self._add_bias(depth_to_space_2x(_conv3x3(x, k3.astype(x.dtype))))


class ConditionalBatchNorm(nn.Module):
  """BatchNorm whose affine the label picks: gain 1 + E_g[y], bias E_b[y].

  The class-conditional BatchNorm of cGANs with projection discriminators
  (Miyato & Koyama 2018) and BigGAN: every normalised layer of G sees the
  label, not only its input, so the class shapes the whole image. Both
  embeddings start at zero, so at initialisation this is plain BatchNorm
  without an affine. Works on (N, C) and (N, H, W, C) inputs.
  """
  num_classes: int
  momentum: float = 0.9

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array,
               train: bool) -> jax.Array:
    h = nn.BatchNorm(use_running_average=not train, momentum=self.momentum,
                     use_scale=False, use_bias=False)(x)
    features = x.shape[-1]
    gain = nn.Embed(self.num_classes, features,
                    embedding_init=nn.initializers.zeros)(labels)
    bias = nn.Embed(self.num_classes, features,
                    embedding_init=nn.initializers.zeros)(labels)
    expand = (slice(None),) + (None,) * (x.ndim - 2)
    return h * (1 + gain[expand]) + bias[expand]


# The classifiers' last layer, by name (config.model.classifier.head).
HEADS = ("linear", "cosine")


class CosineHead(nn.Module):
  """Logits as cosines between the features and each class's weight vector.

  Cao et al.'s NormedLinear, the head LDAM was designed with: its margins
  (up to 0.5) and scale (30) are set for logits in [-1, 1], which a plain
  dense layer does not bound (it can grow its logits until any margin is
  small). No bias. Only a loss that scales the logits (LDAM's) trains well
  on it; plain cross-entropy on cosines cannot push a probability past
  e / (e + 9 / e) for ten classes.
  """
  num_classes: int

  @nn.compact
  def __call__(self, feats: jax.Array) -> jax.Array:
    kernel = self.param("kernel", nn.initializers.lecun_normal(),
                        (feats.shape[-1], self.num_classes))
    return unit_rows(feats) @ unit_rows(kernel.T).T


def unit_rows(x: jax.Array, eps: float = 1e-12) -> jax.Array:
  """Each row of x over its L2 norm (at least eps, so a zero row stays
  zero), as torch's F.normalize."""
  return x / jnp.maximum(jnp.linalg.norm(x, axis=-1, keepdims=True), eps)


def classifier_head(kind: str, num_classes: int) -> nn.Module:
  """The classifiers' last layer: "linear" (a dense layer, the default) or
  "cosine" (CosineHead)."""
  if kind == "linear":
    return nn.Dense(num_classes)
  if kind == "cosine":
    return CosineHead(num_classes)
  raise ValueError(f"unknown head {kind!r}; choose one of {list(HEADS)}")
