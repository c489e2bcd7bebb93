"""CIFAR-10 (python tarball) and SVHN (.mat) readers and tfds preparation,
on small files written here in the distributed formats."""

import os

import numpy as np
import pytest

from conftest import make_cifar_tarball
from conftest import make_svhn_dir
from wcgen.data import cifar_python
from wcgen.data import sources
from wcgen.data import svhn_mat
from wcgen.errors import DataError


def _sorted_rows(images, labels):
  return sorted((int(l), x.tobytes()) for x, l in zip(images, labels))


def test_cifar_reader_matches_written_arrays(tmp_path):
  path, arrays = make_cifar_tarball(str(tmp_path))
  splits, names = cifar_python.read_cifar10(path)
  assert names[0] == "airplane" and names[9] == "truck"
  for split in ("train", "test"):
    images, labels = splits[split]
    assert images.shape == (len(arrays[split][1]), 32, 32, 3)
    np.testing.assert_array_equal(images, arrays[split][0])
    np.testing.assert_array_equal(labels, arrays[split][1])


def test_svhn_reader_maps_ten_to_zero(tmp_path):
  root, arrays = make_svhn_dir(str(tmp_path))
  images, labels = svhn_mat.read_svhn_mat(os.path.join(root,
                                                       "train_32x32.mat"))
  np.testing.assert_array_equal(images, arrays["train"][0])
  np.testing.assert_array_equal(labels, arrays["train"][1])
  assert labels.min() == 0 and labels.max() == 9


@pytest.mark.parametrize("name,make,sub", [
    ("cifar10", make_cifar_tarball, "cifar10"),
    ("svhn_cropped", make_svhn_dir, "svhn_cropped"),
])
def test_prepared_through_tfds(tmp_path, name, make, sub):
  _, arrays = make(str(tmp_path / "raw" / sub))
  for split in ("train", "test"):
    images, labels = sources.load_arrays(name, split,
                                         data_dir=str(tmp_path / "raw"),
                                         tfds_dir=str(tmp_path / "tfds"))
    assert images.shape[1:] == (32, 32, 3)
    assert _sorted_rows(images, labels) == _sorted_rows(*arrays[split])
  # The stock builder reads what was prepared (no local subclass needed).
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  assert tfds.builder(name, data_dir=str(tmp_path / "tfds")).is_prepared()


def _truncate(path, keep_fraction=0.5):
  with open(path, "r+b") as f:
    f.truncate(int(os.path.getsize(path) * keep_fraction))


def test_truncated_cifar_tarball(tmp_path):
  path, _ = make_cifar_tarball(str(tmp_path / "raw" / "cifar10"))
  _truncate(path)
  with pytest.raises(DataError, match="truncated") as info:
    sources.prepare("cifar10", data_dir=str(tmp_path / "raw"),
                    tfds_dir=str(tmp_path / "tfds"))
  assert "cifar-10-python.tar.gz" in str(info.value)
  assert "\n" not in str(info.value)
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  assert not tfds.builder("cifar10",
                          data_dir=str(tmp_path / "tfds")).is_prepared()


def test_truncated_svhn_mat(tmp_path):
  root, _ = make_svhn_dir(str(tmp_path / "raw" / "svhn_cropped"))
  _truncate(os.path.join(root, "test_32x32.mat"))
  with pytest.raises(DataError, match="test_32x32.mat"):
    sources.prepare("svhn_cropped", data_dir=str(tmp_path / "raw"),
                    tfds_dir=str(tmp_path / "tfds"))


def test_wrong_format_is_named(tmp_path):
  path = tmp_path / "cifar-10-python.tar.gz"
  path.write_bytes(b"not a tarball at all")
  with pytest.raises(DataError, match="not cifar-10-python.tar.gz"):
    cifar_python.read_cifar10(str(path))


def test_missing_svhn_files_named(tmp_path, monkeypatch):
  monkeypatch.delenv(sources.DATA_DIR_ENV, raising=False)
  with pytest.raises(DataError, match="train_32x32.mat, test_32x32.mat"):
    sources.prepare("svhn_cropped", data_dir=str(tmp_path),
                    tfds_dir=str(tmp_path / "tfds"))
