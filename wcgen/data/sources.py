"""Where the images come from: tensorflow-datasets, prepared offline if need be.

Every dataset is read through its stock tfds builder's on-disk format. When
the tfds data directory does not hold it yet and tfds cannot download (no
network, or checksums that differ as for Debian's re-gzipped files), the
builder is prepared from the original files the user already has, with a
subclass that reads them locally. The prepared dataset is the stock one: a
later `tfds.load("fashion_mnist", data_dir=...)` reads it unchanged.
"""

import dataclasses
import os
from typing import Dict, Optional, Sequence, Tuple

from absl import logging
import numpy as np
import tensorflow_datasets as tfds
from tensorflow_datasets.image_classification import mnist as tfds_mnist

from wcgen.data import idx
from wcgen.errors import DataError

# Debian's `dataset-fashion-mnist` installs the original IDX files here.
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
# Environment variable naming a directory of raw data files.
DATA_DIR_ENV = "WCGEN_DATA_DIR"

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@dataclasses.dataclass(frozen=True)
class DatasetSpec:
  """What a dataset is and how to find its raw files."""
  tfds_name: str
  num_classes: int
  image_shape: Tuple[int, int, int]  # as stored, H W C
  raw_files: Sequence[str]
  raw_subdirs: Sequence[str]  # sub-directories of a data dir to look in
  system_dirs: Sequence[str] = ()
  install_hint: str = ""


DATASETS: Dict[str, DatasetSpec] = {
    "fashion_mnist": DatasetSpec(
        "fashion_mnist", 10, (28, 28, 1),
        raw_files=_IDX_FILES["train"] + _IDX_FILES["test"],
        raw_subdirs=("fashion_mnist", "fashion-mnist", ""),
        system_dirs=(DEBIAN_FASHION_MNIST_DIR,),
        install_hint="or run `apt-get install dataset-fashion-mnist`"),
    "mnist": DatasetSpec(
        "mnist", 10, (28, 28, 1),
        raw_files=_IDX_FILES["train"] + _IDX_FILES["test"],
        raw_subdirs=("mnist", "")),
}


def get_spec(name: str) -> DatasetSpec:
  if name not in DATASETS:
    raise DataError(f"unknown dataset {name!r}; choose one of "
                    f"{sorted(DATASETS)}")
  return DATASETS[name]


def find_raw_dir(spec: DatasetSpec, data_dir: str = "") -> Optional[str]:
  """First directory holding all of the dataset's raw files, or None.

  Looks in `data_dir` (the config's), then $WCGEN_DATA_DIR (each with the
  dataset's usual sub-directory names), then system locations.
  """
  roots = [d for d in (data_dir, os.environ.get(DATA_DIR_ENV, "")) if d]
  candidates = [os.path.join(r, s) for r in roots for s in spec.raw_subdirs]
  candidates += list(spec.system_dirs)
  for cand in candidates:
    if all(os.path.exists(os.path.join(cand, f)) for f in spec.raw_files):
      return cand
  return None


def _missing_message(spec: DatasetSpec, data_dir: str) -> str:
  where = data_dir or f"${DATA_DIR_ENV}"
  sub = spec.raw_subdirs[0]
  hint = f" {spec.install_hint}" if spec.install_hint else ""
  return (f"no local files for {spec.tfds_name}: put "
          f"{', '.join(spec.raw_files)} in {os.path.join(where, sub)} "
          f"(set --config.data.data_dir or ${DATA_DIR_ENV}){hint}, or set "
          "--config.data.download=True on a machine with network")


class _LocalIdxMixin:
  """Prepares an MNIST-family tfds builder from local IDX files."""

  raw_dir: str = ""

  def _split_generators(self, dl_manager):
    del dl_manager  # nothing is downloaded
    return {
        split: self._generate_examples(
            os.path.join(self.raw_dir, images), os.path.join(
                self.raw_dir, labels))
        for split, (images, labels) in _IDX_FILES.items()
    }

  def _generate_examples(self, images_path, labels_path):
    images = idx.read_idx(images_path)
    labels = idx.read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
      raise DataError(f"{images_path} and {labels_path} do not match: "
                      f"shapes {images.shape} and {labels.shape}")
    for i, (image, label) in enumerate(zip(images, labels)):
      yield i, {"image": image[..., None], "label": int(label)}


class LocalFashionMNIST(_LocalIdxMixin, tfds_mnist.FashionMNIST,
                        skip_registration=True):
  name = "fashion_mnist"


class LocalMNIST(_LocalIdxMixin, tfds_mnist.MNIST, skip_registration=True):
  name = "mnist"


_LOCAL_BUILDERS = {"fashion_mnist": LocalFashionMNIST, "mnist": LocalMNIST}


def tfds_data_dir(configured: str = "") -> str:
  """The tfds data directory: the config's, else $TFDS_DATA_DIR, else ~."""
  return (configured or os.environ.get("TFDS_DATA_DIR") or
          os.path.expanduser("~/tensorflow_datasets"))


def prepare(name: str, data_dir: str = "", tfds_dir: str = "",
            download: bool = False) -> tfds.core.DatasetBuilder:
  """Returns a prepared tfds builder for `name`, preparing it if needed.

  tfds writes into a temporary directory and renames it when complete, so a
  preparation killed half-way leaves nothing that a later run would read.
  """
  spec = get_spec(name)
  tfds_dir = tfds_data_dir(tfds_dir)
  builder = tfds.builder(spec.tfds_name, data_dir=tfds_dir)
  if builder.is_prepared():
    return builder
  raw_dir = find_raw_dir(spec, data_dir)
  if raw_dir is not None and name in _LOCAL_BUILDERS:
    logging.info("Preparing %s in %s from local files in %s", name, tfds_dir,
                 raw_dir)
    builder = _LOCAL_BUILDERS[name](data_dir=tfds_dir)
    builder.raw_dir = raw_dir
    builder.download_and_prepare()
    return builder
  if download:
    builder.download_and_prepare()
    return builder
  raise DataError(_missing_message(spec, data_dir))


def load_arrays(name: str, split: str, data_dir: str = "",
                tfds_dir: str = "",
                download: bool = False) -> Tuple[np.ndarray, np.ndarray]:
  """The whole split as (uint8 images [N, H, W, C], int32 labels [N]).

  Every dataset the paper uses fits in host memory (at most 73k 32x32x3
  images), and every host needs all labels to choose the same long-tailed
  subset, so the split is read whole, in its stored order.
  """
  builder = prepare(name, data_dir, tfds_dir, download)
  data = tfds.as_numpy(
      builder.as_dataset(split=split, batch_size=-1, shuffle_files=False))
  return data["image"].astype(np.uint8), data["label"].astype(np.int32)
