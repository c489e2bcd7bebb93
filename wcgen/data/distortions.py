"""Test-time distortions of a clean-trained model's test set (tf.data).

The paper's second bad-data setting: train on clean images, test on images
of which a fraction (70%) carry Gaussian noise of standard deviation sigma
or salt-and-pepper noise at rate r. Pixels are in [0, 1] here.

Which images are distorted is a seeded choice of exactly
round(fraction * N) of them; each image's noise comes from a stateless key
(seed, index in the test set). The distorted test set is therefore a fixed
function of the seed, whatever the batch size, device or host count.
"""

import dataclasses

import numpy as np
import tensorflow as tf

from wcgen.errors import ConfigError

KINDS = ("none", "gaussian", "salt_pepper")


@dataclasses.dataclass(frozen=True)
class Distortion:
  """kind: one of KINDS; level: sigma (gaussian) or rate r (salt_pepper);
  fraction: of test images distorted; seed: of the choice and the noise."""
  kind: str = "none"
  level: float = 0.0
  fraction: float = 0.7
  seed: int = 0

  def __post_init__(self):
    if self.kind not in KINDS:
      raise ConfigError(f"unknown test_distortion {self.kind!r}; choose one "
                        f"of {list(KINDS)}")
    if not self.level >= 0:
      raise ConfigError(f"test_distortion_level (sigma or rate) must be >= 0, "
                        f"got {self.level}")
    if self.kind == "salt_pepper" and self.level > 1:
      raise ConfigError(f"salt-and-pepper rate must be in [0, 1], got "
                        f"{self.level}")
    if not 0 < self.fraction <= 1:
      raise ConfigError(f"test_distortion_fraction must be in (0, 1], got "
                        f"{self.fraction}; the paper uses 0.7")

  @property
  def active(self) -> bool:
    return self.kind != "none"

  def chosen(self, num_images: int) -> np.ndarray:
    """Bool [N]: which test images are distorted (exactly round(f*N))."""
    mask = np.zeros(num_images, bool)
    if self.active:
      rng = np.random.default_rng([self.seed, 3])
      count = int(round(self.fraction * num_images))
      mask[rng.choice(num_images, count, replace=False)] = True
    return mask


def distort_image(image: tf.Tensor, index: tf.Tensor,
                  distortion: Distortion) -> tf.Tensor:
  """One float image [H, W, C] in [0, 1], distorted with key (seed, index)."""
  key = tf.stack([tf.constant(distortion.seed, tf.int64),
                  tf.cast(index, tf.int64)])
  if distortion.kind == "gaussian":
    noise = tf.random.stateless_normal(tf.shape(image), key)
    return tf.clip_by_value(image + distortion.level * noise, 0.0, 1.0)
  if distortion.kind == "salt_pepper":
    # One draw per pixel location: salt or pepper turns all channels.
    shape = tf.concat([tf.shape(image)[:2], [1]], 0)
    u = tf.random.stateless_uniform(shape, key)
    half = distortion.level / 2
    image = tf.where(u < half, 1.0, image)
    return tf.where((u >= half) & (u < distortion.level), 0.0, image)
  return image


def distort_batch(images: tf.Tensor, indices: tf.Tensor, chosen: tf.Tensor,
                  distortion: Distortion) -> tf.Tensor:
  """Distorts the rows of [B, H, W, C] whose `chosen` flag is set."""
  if not distortion.active:
    return images

  def one(args):
    image, index, flag = args
    return tf.cond(flag, lambda: distort_image(image, index, distortion),
                   lambda: image)

  return tf.map_fn(one, (images, indices, chosen),
                   fn_output_signature=tf.float32)
