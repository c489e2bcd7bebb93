"""tf.data pipelines that feed global, sharded batches to the jitted steps.

Design:
* Every host holds the (small) split in memory and computes the same
  long-tailed subset from the seed, so the set trained on does not depend on
  the number of hosts.
* The order of examples is a function of (seed, epoch) only: epoch e is a
  stateless shuffle of the subset. Resuming at step k starts the index
  stream at position k * global_batch, so a resumed run sees exactly the
  batches an uninterrupted one would, at no cost (no replay).
* Each host gathers, resizes and scales only the rows its devices hold;
  `jax.make_array_from_process_local_data` assembles the global array.
* Shapes are static: training drops no data but never emits a short batch;
  evaluation pads the last batch and carries a mask.
"""

import dataclasses
from typing import Dict, Iterator, Tuple

import jax
from jax.sharding import Sharding
import ml_collections
import numpy as np
import tensorflow as tf

from wcgen.data import long_tail
from wcgen.data import sources
from wcgen.errors import ConfigError

Batch = Dict[str, jax.Array]


def preprocess_images(images: tf.Tensor, image_size: int) -> tf.Tensor:
  """uint8 [B, H, W, C] -> float32 [B, S, S, C] in [-1, 1] (bilinear)."""
  x = tf.cast(images, tf.float32) / 127.5 - 1.0
  if images.shape[1] != image_size or images.shape[2] != image_size:
    x = tf.image.resize(x, (image_size, image_size), method="bilinear")
  return x


def local_rows(sharding: Sharding, global_batch: int) -> np.ndarray:
  """Rows of a global batch that this process's devices hold, in the order
  `make_array_from_process_local_data` expects them."""
  index_map = sharding.addressable_devices_indices_map((global_batch,))
  slices = sorted({(idx[0].start or 0, idx[0].stop or global_batch)
                   for idx in index_map.values()})
  return np.concatenate([np.arange(a, b) for a, b in slices]).astype(np.int32)


def _to_global(sharding: Sharding, global_batch: int,
               local: Dict[str, np.ndarray]) -> Batch:
  return {
      k: jax.make_array_from_process_local_data(
          sharding, v, (global_batch,) + v.shape[1:])
      for k, v in local.items()
  }


@dataclasses.dataclass
class Datasets:
  """The training subset and test set of one run, with what describes them."""
  name: str
  num_classes: int
  image_shape: Tuple[int, int, int]  # after preprocessing, H W C
  train_images: np.ndarray  # uint8, the (long-tailed) training subset
  train_labels: np.ndarray
  test_images: np.ndarray
  test_labels: np.ndarray

  @property
  def train_class_counts(self) -> np.ndarray:
    return np.bincount(self.train_labels, minlength=self.num_classes)

  @property
  def test_class_counts(self) -> np.ndarray:
    return np.bincount(self.test_labels, minlength=self.num_classes)

  def train_dataset(self, global_batch: int, seed: int, start_step: int,
                    rows: np.ndarray) -> tf.data.Dataset:
    """Batches from step `start_step` on; `rows` picks this host's rows."""
    n = len(self.train_labels)
    if global_batch > n:
      raise ConfigError(f"batch_size {global_batch} exceeds the {n} training "
                        "images; lower --config.batch_size")
    images = tf.constant(self.train_images)
    labels = tf.constant(self.train_labels)
    position = start_step * global_batch
    start_epoch, offset = divmod(position, n)

    def epoch_order(epoch):
      return tf.data.Dataset.from_tensor_slices(
          tf.random.experimental.stateless_shuffle(
              tf.range(n, dtype=tf.int32),
              seed=tf.stack([tf.constant(seed, tf.int64), epoch])))

    size = self.image_shape[0]
    ds = tf.data.Dataset.range(start_epoch, np.iinfo(np.int64).max)
    ds = ds.flat_map(epoch_order).skip(offset)
    ds = ds.batch(global_batch, drop_remainder=True)
    rows = tf.constant(rows)

    def load(index):
      index = tf.gather(index, rows)
      return {
          "image": preprocess_images(tf.gather(images, index), size),
          "label": tf.gather(labels, index),
      }

    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    return ds.with_options(options).prefetch(2)

  def train_iterator(self, global_batch: int, seed: int, start_step: int,
                     sharding: Sharding) -> Iterator[Batch]:
    """Global batches {"image", "label"} sharded with `sharding`."""
    rows = local_rows(sharding, global_batch)
    ds = self.train_dataset(global_batch, seed, start_step, rows)
    for local in ds.as_numpy_iterator():
      yield _to_global(sharding, global_batch, local)

  def eval_iterator(self, global_batch: int,
                    sharding: Sharding) -> Iterator[Batch]:
    """The whole test set once, in order; the last batch is padded and
    `mask` marks real rows."""
    n = len(self.test_labels)
    padded = -(-n // global_batch) * global_batch
    pad = padded - n
    images = np.concatenate(
        [self.test_images,
         np.zeros((pad,) + self.test_images.shape[1:], np.uint8)])
    labels = np.concatenate([self.test_labels, np.zeros(pad, np.int32)])
    mask = np.arange(padded) < n
    rows = tf.constant(local_rows(sharding, global_batch))
    size = self.image_shape[0]
    ds = tf.data.Dataset.from_tensor_slices((images, labels, mask))
    ds = ds.batch(global_batch)

    def load(image, label, valid):
      return {
          "image": preprocess_images(tf.gather(image, rows), size),
          "label": tf.gather(label, rows),
          "mask": tf.gather(valid, rows),
      }

    for local in ds.map(load).prefetch(2).as_numpy_iterator():
      yield _to_global(sharding, global_batch, local)


def create_datasets(config: ml_collections.ConfigDict) -> Datasets:
  """Reads the dataset named in `config.data` and applies its bad-data
  transform (here: the long tail) to the training split only."""
  data = config.data
  spec = sources.get_spec(data.name)
  kwargs = dict(data_dir=data.data_dir, tfds_dir=data.tfds_dir,
                download=data.download)
  train_x, train_y = sources.load_arrays(data.name, "train", **kwargs)
  test_x, test_y = sources.load_arrays(data.name, "test", **kwargs)
  keep = long_tail.long_tail_indices(train_y, data.imbalance_factor,
                                     data.subset_seed)
  channels = spec.image_shape[-1]
  return Datasets(
      name=data.name,
      num_classes=spec.num_classes,
      image_shape=(data.image_size, data.image_size, channels),
      train_images=train_x[keep],
      train_labels=train_y[keep],
      test_images=test_x,
      test_labels=test_y)
