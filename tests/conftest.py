"""Shared fixtures: small data sets written in the real file formats."""

import gzip
import os
import struct

import numpy as np
import pytest

NUM_CLASSES = 10


def write_idx_gz(path, array):
  """Writes IDX bytes by hand (independently of wcgen.data.idx)."""
  array = np.asarray(array, np.uint8)
  header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
  header += b"".join(struct.pack(">I", d) for d in array.shape)
  with gzip.open(path, "wb") as f:
    f.write(header + array.tobytes())


def class_images(labels, rng):
  """28x28 images whose class shows as a bright horizontal band."""
  images = rng.integers(0, 60, (len(labels), 28, 28), dtype=np.uint8)
  for i, y in enumerate(labels):
    images[i, 2 + 2 * y:4 + 2 * y, :] = 230
  return images


def make_idx_dir(root, train_per_class=24, test_per_class=4, seed=0):
  """An MNIST-format directory: train/t10k images and labels, gzipped."""
  rng = np.random.default_rng(seed)
  os.makedirs(root, exist_ok=True)
  for prefix, per_class in (("train", train_per_class),
                            ("t10k", test_per_class)):
    labels = rng.permutation(np.repeat(np.arange(NUM_CLASSES), per_class))
    write_idx_gz(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"),
                 class_images(labels, rng))
    write_idx_gz(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz"),
                 labels.astype(np.uint8))
  return root


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
  """(raw IDX dir, tfds dir) holding a tiny fashion_mnist, prepared once."""
  base = tmp_path_factory.mktemp("data")
  raw = make_idx_dir(str(base / "raw" / "fashion_mnist"))
  tfds_dir = str(base / "tfds")
  from wcgen.data import sources  # pylint: disable=g-import-not-at-top
  sources.prepare("fashion_mnist", data_dir=str(base / "raw"),
                  tfds_dir=tfds_dir)
  return str(base / "raw"), tfds_dir


@pytest.fixture
def tiny_config(tiny_data):
  """The `:tiny` config of configs/fmnist_wgan.py on the tiny data."""
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  config = fmnist_wgan.get_config("tiny")
  config.data.data_dir, config.data.tfds_dir = tiny_data
  return config
