"""Standard image augmentation in JAX: random crop, flip and rotation.

The paper's "Combination" baseline (standard augmentation). It runs inside
the jitted step on the sharded batch, keyed by the step's key, so it costs
no host time, is identical on any device layout, and a resumed run draws
the same augmentations. Images are [B, H, W, C] in [-1, 1]; -1 (black)
fills what a shift or rotation uncovers, as zero-padding does on [0, 1]
pixels.
"""

import dataclasses
import math

import jax
import jax.numpy as jnp

FILL = -1.0


@dataclasses.dataclass(frozen=True)
class Augmentation:
  """crop_pad: pixels of padding before a random crop back to size (0 = no
  crop); flip: random horizontal flips (off for digits, where a mirrored 2
  is no 2); max_rotation_deg: rotation drawn uniformly in +-this (0 = no
  rotation)."""
  crop_pad: int = 4
  flip: bool = True
  max_rotation_deg: float = 15.0

  def __call__(self, key: jax.Array, images: jax.Array) -> jax.Array:
    keys = jax.random.split(key, images.shape[0])
    return jax.vmap(self.one)(keys, images)

  def one(self, key: jax.Array, image: jax.Array) -> jax.Array:
    k_crop, k_flip, k_rot = jax.random.split(key, 3)
    if self.max_rotation_deg:
      angle = jax.random.uniform(k_rot, (), minval=-self.max_rotation_deg,
                                 maxval=self.max_rotation_deg)
      image = rotate(image, angle * math.pi / 180)
    if self.crop_pad:
      shift = jax.random.randint(k_crop, (2,), 0, 2 * self.crop_pad + 1)
      image = pad_and_crop(image, self.crop_pad, shift[0], shift[1])
    if self.flip:
      image = jnp.where(jax.random.bernoulli(k_flip), image[:, ::-1], image)
    return image


def pad_and_crop(image: jax.Array, pad: int, top: jax.Array,
                 left: jax.Array) -> jax.Array:
  """Pads [H, W, C] by `pad` with FILL and crops HxW at (top, left)."""
  h, w, c = image.shape
  padded = jnp.pad(image, ((pad, pad), (pad, pad), (0, 0)),
                   constant_values=FILL)
  return jax.lax.dynamic_slice(padded, (top, left, 0), (h, w, c))


def rotate(image: jax.Array, angle: jax.Array) -> jax.Array:
  """Rotates [H, W, C] by `angle` radians (counter-clockwise) about its
  centre, bilinear, FILL outside."""
  h, w, _ = image.shape
  cy, cx = (h - 1) / 2, (w - 1) / 2
  yy, xx = jnp.meshgrid(jnp.arange(h, dtype=jnp.float32),
                        jnp.arange(w, dtype=jnp.float32), indexing="ij")
  cos, sin = jnp.cos(angle), jnp.sin(angle)
  # Inverse map: where each output pixel comes from (rows grow downwards;
  # angle pi/2 gives np.rot90, a counter-clockwise turn on screen).
  src_y = cy + (yy - cy) * cos + (xx - cx) * sin
  src_x = cx - (yy - cy) * sin + (xx - cx) * cos

  def channel(x):
    return jax.scipy.ndimage.map_coordinates(x, [src_y, src_x], order=1,
                                             mode="constant", cval=FILL)

  return jax.vmap(channel, in_axes=2, out_axes=2)(image)


@dataclasses.dataclass(frozen=True)
class DiffAugment:
  """Differentiable augmentation of the critic's inputs (Zhao et al.,
  NeurIPS 2020), the standard fix for GANs trained on little data: real
  and generated images go through the same random translation and cutout
  before D, so D cannot memorise the few real images of a rare class, and
  G's gradient flows through the augmentation (both are differentiable in
  the image).

  translation: largest shift as a fraction of the side (pad with FILL and
  crop; Zhao et al.: 1/8); cutout: side of the square set to FILL, as a
  fraction of the image side (Zhao et al.: 1/2); 0 turns either off.
  """
  translation: float = 0.125
  cutout: float = 0.5

  def __call__(self, key: jax.Array, images: jax.Array) -> jax.Array:
    keys = jax.random.split(key, images.shape[0])
    return jax.vmap(self.one)(keys, images)

  def one(self, key: jax.Array, image: jax.Array) -> jax.Array:
    h, w, _ = image.shape
    k_shift, k_cut = jax.random.split(key)
    pad = int(round(self.translation * h))
    if pad:
      shift = jax.random.randint(k_shift, (2,), 0, 2 * pad + 1)
      image = pad_and_crop(image, pad, shift[0], shift[1])
    side = int(round(self.cutout * h))
    if side:
      centre = jax.random.randint(k_cut, (2,), 0, jnp.array([h, w]))
      yy, xx = jnp.meshgrid(jnp.arange(h), jnp.arange(w), indexing="ij")
      inside = ((jnp.abs(yy - centre[0]) < (side + 1) // 2) &
                (jnp.abs(xx - centre[1]) < (side + 1) // 2))
      image = jnp.where(inside[..., None], FILL, image)
    return image
