"""tf.data pipelines that feed global, sharded batches to the jitted steps.

Design:
* Every host holds the (small) split in memory and computes the same
  bad-data transform from the seed (long tail, reduction, label noise), so
  the set trained on does not depend on the number of hosts.
* The order of examples is a function of (seed, epoch) only: epoch e is a
  stateless shuffle of the subset. Resuming at step k starts the index
  stream at position k * global_batch, so a resumed run sees exactly the
  batches an uninterrupted one would, at no cost (no replay).
* Each host gathers, resizes and scales only the rows its devices hold;
  `jax.make_array_from_process_local_data` assembles the global array.
* Shapes are static: training drops no data but never emits a short batch;
  evaluation pads the last batch and carries a mask.
* A distorted test set (distortions.py) is the clean one with noise keyed
  by each image's index, so it is the same for any batch or host layout.
"""

import dataclasses
from typing import Dict, Iterator, Tuple

import jax
from jax.sharding import Sharding
import ml_collections
import numpy as np
import tensorflow as tf

from wcgen.data import distortion_ops
from wcgen.data import distortions
from wcgen.data import label_noise
from wcgen.data import long_tail
from wcgen.data import reduced
from wcgen.data import sources
from wcgen.data import specs
from wcgen.errors import ConfigError

Batch = Dict[str, jax.Array]
# The class-balanced companion stream's seed is the run's seed plus this,
# so it never repeats the training stream's draws.
_COMPANION_SEED_OFFSET = 0x5EED


def to_unit_range(images: tf.Tensor, image_size: int) -> tf.Tensor:
  """uint8 [B, H, W, C] -> float32 [B, S, S, C] in [0, 1] (bilinear)."""
  x = tf.cast(images, tf.float32) / 255.0
  if images.shape[1] != image_size or images.shape[2] != image_size:
    x = tf.image.resize(x, (image_size, image_size), method="bilinear")
  return x


def preprocess_images(images: tf.Tensor, image_size: int) -> tf.Tensor:
  """uint8 [B, H, W, C] -> float32 [B, S, S, C] in [-1, 1] (bilinear)."""
  return to_unit_range(images, image_size) * 2.0 - 1.0


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
  train_images: np.ndarray  # uint8, the (long-tailed, reduced) subset
  train_labels: np.ndarray  # what training sees (noisy if label noise)
  test_images: np.ndarray
  test_labels: np.ndarray
  # Labels before label noise (equal to train_labels without it).
  train_clean_labels: np.ndarray = None
  # The test-time distortion of evaluate(..., distorted=True).
  distortion: distortions.Distortion = distortions.Distortion()
  # The validation split (clean labels, balanced; empty when the config
  # asks for none): held out of the training split before any bad-data
  # transform, so it is disjoint from the training subset and the test set.
  validation_images: np.ndarray = None
  validation_labels: np.ndarray = None

  def __post_init__(self):
    if self.train_clean_labels is None:
      self.train_clean_labels = self.train_labels
    if self.validation_labels is None:
      self.validation_images = self.test_images[:0]
      self.validation_labels = self.test_labels[:0]

  @property
  def has_validation(self) -> bool:
    return len(self.validation_labels) > 0

  def eval_split(self, split: str) -> Tuple[np.ndarray, np.ndarray]:
    """(images, labels) of "test" or "validation"."""
    if split == "test":
      return self.test_images, self.test_labels
    if split == "validation":
      return self.validation_images, self.validation_labels
    raise ValueError(f"unknown split {split!r}; 'test' or 'validation'")

  @property
  def train_class_counts(self) -> np.ndarray:
    return np.bincount(self.train_labels, minlength=self.num_classes)

  @property
  def realised_imbalance_factor(self) -> float:
    """Largest / smallest training class as drawn (a class keeps at least
    one image, so a huge configured factor is not what is trained on)."""
    counts = self.train_class_counts
    return float(counts.max() / max(counts.min(), 1))

  @property
  def test_class_counts(self) -> np.ndarray:
    return np.bincount(self.test_labels, minlength=self.num_classes)

  def check_batch_size(self, global_batch: int) -> None:
    """Training batches never repeat an image within one batch of an epoch,
    so a batch may not exceed the training set."""
    n = len(self.train_labels)
    if global_batch > n:
      raise ConfigError(f"batch_size {global_batch} exceeds the {n} training "
                        "images; lower --config.schedule.batch_size")

  def _epoch_index_batches(self, global_batch: int, seed: int,
                           start_step: int) -> tf.data.Dataset:
    """Index batches that pass over the data in epochs: epoch e is a
    stateless shuffle keyed by (seed, e), and step k starts at position
    k * global_batch of that stream."""
    n = len(self.train_labels)
    self.check_batch_size(global_batch)
    start_epoch, offset = divmod(start_step * global_batch, n)

    def epoch_order(epoch):
      return tf.data.Dataset.from_tensor_slices(
          tf.random.experimental.stateless_shuffle(
              tf.range(n, dtype=tf.int32),
              seed=tf.stack([tf.constant(seed, tf.int64), epoch])))

    ds = tf.data.Dataset.range(start_epoch, np.iinfo(np.int64).max)
    ds = ds.flat_map(epoch_order).skip(offset)
    return ds.batch(global_batch, drop_remainder=True)

  def _class_balanced_index_batches(self, global_batch: int, seed: int,
                                    start_step: int) -> tf.data.Dataset:
    """Index batches for oversampling: each row draws a class uniformly
    (among classes present), then an image of it uniformly, with keys
    (seed, step); rare images repeat, as in re-sampling baselines."""
    order = np.argsort(self.train_labels, kind="stable").astype(np.int32)
    counts = np.bincount(self.train_labels, minlength=self.num_classes)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int32)
    present = np.flatnonzero(counts).astype(np.int32)
    order, counts_t, starts_t, present_t = (
        tf.constant(a) for a in (order, counts.astype(np.int32), starts,
                                 present))

    def draw(step):
      key = tf.stack([tf.constant(seed, tf.int64), step])
      k_class, k_image = tf.unstack(
          tf.random.experimental.stateless_split(key, 2))
      cls = tf.gather(present_t, tf.random.stateless_uniform(
          [global_batch], k_class, 0, len(present), tf.int32))
      count = tf.gather(counts_t, cls)
      u = tf.random.stateless_uniform([global_batch], k_image)
      within = tf.minimum(tf.cast(u * tf.cast(count, tf.float32), tf.int32),
                          count - 1)
      return tf.gather(order, tf.gather(starts_t, cls) + within)

    ds = tf.data.Dataset.range(start_step, np.iinfo(np.int64).max)
    return ds.map(draw)

  def train_dataset(self, global_batch: int, seed: int, start_step: int,
                    rows: np.ndarray, sampling: str = "uniform",
                    balanced_companion: bool = False) -> tf.data.Dataset:
    """Batches from step `start_step` on; `rows` picks this host's rows.

    sampling: "uniform" (epochs over the data) or "class_balanced" (every
    class equally likely in each row: the oversampling baseline).
    balanced_companion: each batch also holds "balanced_image" and
    "balanced_label", a class-balanced batch of its own stream (seed
    offset), for methods that perturb class-balanced seeds or train their
    critic on balanced data.
    """
    if sampling == "uniform":
      ds = self._epoch_index_batches(global_batch, seed, start_step)
    elif sampling == "class_balanced":
      ds = self._class_balanced_index_batches(global_batch, seed, start_step)
    else:
      raise ConfigError(f"unknown sampling {sampling!r}; choose 'uniform' or "
                        "'class_balanced'")
    images = tf.constant(self.train_images)
    labels = tf.constant(self.train_labels)
    size = self.image_shape[0]
    rows = tf.constant(rows)

    def gather(index, prefix=""):
      index = tf.gather(index, rows)
      return {
          prefix + "image": preprocess_images(tf.gather(images, index), size),
          prefix + "label": tf.gather(labels, index),
      }

    if balanced_companion:
      companion = self._class_balanced_index_batches(
          global_batch, seed + _COMPANION_SEED_OFFSET, start_step)
      load = lambda a, b: {**gather(a), **gather(b, "balanced_")}
      ds = tf.data.Dataset.zip(ds, companion)
    else:
      load = gather
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    options = tf.data.Options()
    options.deterministic = True
    return ds.with_options(options).prefetch(2)

  def train_iterator(self, global_batch: int, seed: int, start_step: int,
                     sharding: Sharding, sampling: str = "uniform",
                     balanced_companion: bool = False) -> Iterator[Batch]:
    """Global batches {"image", "label"} (and "balanced_image",
    "balanced_label" with `balanced_companion`) sharded with `sharding`."""
    rows = local_rows(sharding, global_batch)
    ds = self.train_dataset(global_batch, seed, start_step, rows, sampling,
                            balanced_companion)
    for local in ds.as_numpy_iterator():
      yield _to_global(sharding, global_batch, local)

  def eval_dataset(self, global_batch: int, rows: np.ndarray,
                   distorted: bool = False,
                   split: str = "test") -> tf.data.Dataset:
    """The test (or validation) set once, in order, as this host's rows of
    each global batch; the last batch is padded and `mask` marks real rows.
    With `distorted`, the chosen images carry `self.distortion`."""
    split_images, split_labels = self.eval_split(split)
    n = len(split_labels)
    padded = -(-n // global_batch) * global_batch
    images = tf.constant(split_images)
    labels = tf.constant(split_labels)
    chosen = tf.constant(self.distortion.chosen(n) if distorted else
                         np.zeros(n, bool))
    rows = tf.constant(rows, tf.int64)
    size = self.image_shape[0]

    def load(index):
      index = tf.gather(index, rows)
      valid = index < n
      safe = tf.minimum(index, n - 1)  # padding repeats the last image
      x = to_unit_range(tf.gather(images, safe), size)
      if distorted:
        x = distortion_ops.distort_batch(
            x, safe, tf.gather(chosen, safe) & valid, self.distortion)
      return {"image": x * 2.0 - 1.0, "label": tf.gather(labels, safe),
              "mask": valid}

    ds = tf.data.Dataset.range(padded).batch(global_batch)
    return ds.map(load, num_parallel_calls=tf.data.AUTOTUNE).prefetch(2)

  def eval_iterator(self, global_batch: int, sharding: Sharding,
                    distorted: bool = False,
                    split: str = "test") -> Iterator[Batch]:
    """Global batches {"image", "label", "mask"} of the test (or
    validation) set."""
    rows = local_rows(sharding, global_batch)
    ds = self.eval_dataset(global_batch, rows, distorted, split)
    for local in ds.as_numpy_iterator():
      yield _to_global(sharding, global_batch, local)


def create_datasets(data: ml_collections.ConfigDict) -> Datasets:
  """Reads the dataset `data` (config.data) names and applies its bad-data
  transforms: from the training split it first holds out the validation
  split (`validation_per_class` images of every class), then applies the
  long tail to the rest, the stratified
  reduction and label noise, in that order; to the test split nothing
  (distortion happens per batch, in `eval_dataset(..., distorted=True)`).

  Every choice is seeded by `data.subset_seed` (one stream each).
  """
  spec = specs.get_spec(data.name)
  distortion = distortions.from_config(data)  # checks its fields first
  kwargs = dict(data_dir=data.data_dir, tfds_dir=data.tfds_dir,
                download=data.download)
  train_x, train_y = sources.load_arrays(data.name, "train", **kwargs)
  test_x, test_y = sources.load_arrays(data.name, "test", **kwargs)
  k = spec.num_classes
  val_x, val_y = train_x[:0], train_y[:0]
  per_class = data.get("validation_per_class", 0)
  if per_class:
    held = validation_indices(train_y, per_class, data.subset_seed, k)
    rest = np.setdiff1d(np.arange(len(train_y)), held)
    val_x, val_y = train_x[held], train_y[held]
    train_x, train_y = train_x[rest], train_y[rest]
  keep = long_tail.long_tail_indices(train_y, data.imbalance_factor,
                                     data.subset_seed,
                                     data.long_tail_convention, k)
  train_x, train_y = train_x[keep], train_y[keep]
  if data.train_fraction != 1:
    keep = reduced.reduced_indices(train_y, data.train_fraction,
                                   data.subset_seed, k)
    train_x, train_y = train_x[keep], train_y[keep]
  noisy_y = label_noise.add_label_noise(train_y, data.label_noise,
                                        data.label_noise_rate,
                                        data.subset_seed, k)
  return Datasets(
      name=data.name,
      num_classes=k,
      image_shape=(data.image_size, data.image_size, spec.image_shape[-1]),
      train_images=train_x,
      train_labels=noisy_y,
      test_images=test_x,
      test_labels=test_y,
      train_clean_labels=train_y,
      distortion=distortion,
      validation_images=val_x,
      validation_labels=val_y)


def validation_indices(labels: np.ndarray, per_class: int, seed: int,
                       num_classes: int) -> np.ndarray:
  """Sorted indices of `per_class` images of every class, the validation
  split: a seeded choice from its own stream (not the long tail's), taken
  before the long tail is drawn, so that every class, the head included,
  gives up the same number of images and the split is balanced."""
  counts = np.bincount(labels, minlength=num_classes)
  if per_class < 0 or per_class >= counts.min():
    raise ConfigError(
        f"data.validation_per_class={per_class} must be >= 0 and below the "
        f"smallest class's {counts.min()} training images; lower it")
  return long_tail.choose_per_class(
      labels, np.full(num_classes, per_class),
      np.random.default_rng([seed, 0x7A1]))
