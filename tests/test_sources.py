"""Finding and preparing datasets offline."""

import os

import numpy as np
import pytest

from conftest import make_idx_dir
from wcgen.data import sources
from wcgen.data import specs
from wcgen.errors import DataError


def test_missing_files_name_what_goes_where(tmp_path, monkeypatch):
  monkeypatch.delenv(sources.DATA_DIR_ENV, raising=False)
  with pytest.raises(DataError) as info:
    sources.prepare("mnist", data_dir=str(tmp_path / "raw"),
                    tfds_dir=str(tmp_path / "tfds"))
  message = str(info.value)
  assert "\n" not in message
  assert "train-images-idx3-ubyte.gz" in message
  assert os.path.join(str(tmp_path / "raw"), "mnist") in message
  assert "--config.data.download=True" in message
  # Nothing half-prepared is left behind.
  assert not os.path.exists(tmp_path / "tfds" / "mnist")


def test_prepared_from_env_dir_reads_back_the_files(tmp_path, monkeypatch):
  raw = make_idx_dir(str(tmp_path / "raw" / "mnist"), train_per_class=3,
                     test_per_class=2, seed=5)
  monkeypatch.setenv(sources.DATA_DIR_ENV, str(tmp_path / "raw"))
  images, labels = sources.load_arrays("mnist", "train",
                                       tfds_dir=str(tmp_path / "tfds"))
  assert images.shape == (30, 28, 28, 1) and images.dtype == np.uint8
  assert np.bincount(labels).tolist() == [3] * 10
  # The same images as in the IDX files (tfds stores them in its own order).
  from wcgen.data import idx  # pylint: disable=g-import-not-at-top
  original = idx.read_idx(os.path.join(raw, "train-images-idx3-ubyte.gz"))
  key = lambda a: sorted(x.tobytes() for x in a.reshape(len(a), -1))
  assert key(images) == key(original)


def test_truncated_raw_file_stops_preparation(tmp_path):
  raw = make_idx_dir(str(tmp_path / "raw" / "mnist"), 3, 2)
  path = os.path.join(raw, "t10k-labels-idx1-ubyte.gz")
  with open(path, "r+b") as f:
    f.truncate(os.path.getsize(path) - 6)
  with pytest.raises(DataError, match="t10k-labels"):
    sources.prepare("mnist", data_dir=str(tmp_path / "raw"),
                    tfds_dir=str(tmp_path / "tfds"))
  # tfds' incomplete directory is not taken for a prepared dataset.
  from tensorflow_datasets import builder  # pylint: disable=g-import-not-at-top
  assert not builder("mnist", data_dir=str(tmp_path / "tfds")).is_prepared()


def test_unknown_dataset():
  with pytest.raises(DataError, match="unknown dataset 'cifar100'"):
    specs.get_spec("cifar100")
