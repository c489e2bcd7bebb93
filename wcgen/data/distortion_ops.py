"""The test-time distortions of wcgen.data.distortions, applied in tf.data.

Pixels are in [0, 1]; each image's noise comes from the stateless key
(seed, index in the test set), so a distorted test set is the same for any
batch size, device or host layout.
"""

import tensorflow as tf

from wcgen.data.distortions import Distortion


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
