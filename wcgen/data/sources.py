"""Where the images come from: tensorflow-datasets, prepared offline if need be.

Every dataset is read through its stock tfds builder's on-disk format. When
the tfds data directory does not hold it yet and tfds cannot download (no
network, or checksums that differ as for Debian's re-gzipped files), the
builder is prepared from the original files the user already has, with a
subclass that reads them locally. The prepared dataset is the stock one: a
later `tfds.load("fashion_mnist", data_dir=...)` reads it unchanged.
"""

import abc
import os
from typing import Dict, Optional, Tuple

from absl import logging
import numpy as np
import tensorflow as tf
import tensorflow_datasets as tfds
from tensorflow_datasets.image_classification import cifar as tfds_cifar
from tensorflow_datasets.image_classification import mnist as tfds_mnist

from wcgen.data import cifar_python
from wcgen.data import idx
from wcgen.data import specs
from wcgen.data import svhn_mat
from wcgen.errors import DataError

# Environment variable naming a directory of raw data files.
DATA_DIR_ENV = "WCGEN_DATA_DIR"

Split = Tuple[np.ndarray, np.ndarray]  # uint8 [N, H, W, C], int32 [N]


def find_raw_dir(spec: specs.DatasetSpec, data_dir: str = ""
                 ) -> Optional[str]:
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


def _missing_message(spec: specs.DatasetSpec, data_dir: str) -> str:
  where = data_dir or f"${DATA_DIR_ENV}"
  sub = spec.raw_subdirs[0]
  hint = f" {spec.install_hint}" if spec.install_hint else ""
  return (f"no local files for {spec.tfds_name}: put "
          f"{', '.join(spec.raw_files)} in {os.path.join(where, sub)} "
          f"(set --config.data.data_dir or ${DATA_DIR_ENV}){hint}, or set "
          "--config.data.download=True on a machine with network")


class _LocalFilesMixin(abc.ABC):
  """Prepares a stock tfds builder from local files instead of downloads.

  Subclasses read every split from `raw_dir` (`_read_local`) and say what a
  record looks like in the stock builder's features (`_record`). Reading
  happens before tfds writes anything, so a bad file stops preparation
  with nothing written.
  """

  raw_dir: str = ""

  @abc.abstractmethod
  def _read_local(self) -> Dict[str, Split]:
    """Every split's (images, labels) read from `raw_dir`."""

  def _record(self, split: str, index: int, image, label) -> Dict:
    del split, index
    return {"image": image, "label": int(label)}

  def _split_generators(self, dl_manager):
    del dl_manager  # nothing is downloaded
    return {split: self._local_examples(split, *arrays)
            for split, arrays in self._read_local().items()}

  def _local_examples(self, split, images, labels):
    for i, (image, label) in enumerate(zip(images, labels)):
      yield i, self._record(split, i, image, label)


class _LocalIdxMixin(_LocalFilesMixin):
  """MNIST-family builders from the original IDX .gz files."""

  def _read_local(self):
    out = {}
    for split, (images_name, labels_name) in specs.IDX_FILES.items():
      images_path = os.path.join(self.raw_dir, images_name)
      labels_path = os.path.join(self.raw_dir, labels_name)
      images = idx.read_idx(images_path)
      labels = idx.read_idx(labels_path)
      if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DataError(f"{images_path} and {labels_path} do not match: "
                        f"shapes {images.shape} and {labels.shape}")
      out[split] = images[..., None], labels
    return out


class LocalFashionMNIST(_LocalIdxMixin, tfds_mnist.FashionMNIST,
                        skip_registration=True):
  name = "fashion_mnist"


class LocalMNIST(_LocalIdxMixin, tfds_mnist.MNIST, skip_registration=True):
  name = "mnist"


class LocalCifar10(_LocalFilesMixin, tfds_cifar.Cifar10,
                   skip_registration=True):
  """CIFAR-10 from `cifar-10-python.tar.gz` (tfds downloads the binary
  version; the python one is what most users have)."""
  name = "cifar10"

  def _read_local(self):
    splits, names = cifar_python.read_cifar10(
        os.path.join(self.raw_dir, cifar_python.TARBALL))
    self.info.features["label"].names = names
    return splits

  def _record(self, split, index, image, label):
    return {"id": f"{split}_{index:05d}", "image": image, "label": int(label)}


class LocalSvhnCropped(_LocalFilesMixin, tfds.builder_cls("svhn_cropped"),
                       skip_registration=True):
  """SVHN cropped digits from `train_32x32.mat` and `test_32x32.mat`. The
  531k-image `extra` split is not used by the paper and is not prepared."""
  name = "svhn_cropped"

  def _read_local(self):
    return {split: svhn_mat.read_svhn_mat(
        os.path.join(self.raw_dir, svhn_mat.FILES[split]))
            for split in ("train", "test")}

  def _record(self, split, index, image, label):
    return {"id": f"{split}_{index:06d}", "image": image, "label": int(label)}


_LOCAL_BUILDERS = {"fashion_mnist": LocalFashionMNIST, "mnist": LocalMNIST,
                   "cifar10": LocalCifar10, "svhn_cropped": LocalSvhnCropped}


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
  spec = specs.get_spec(name)
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


def missing_data(name: str, data_dir: str = "", tfds_dir: str = "",
                 download: bool = False) -> Optional[str]:
  """None when `name` can be loaded (prepared in tfds, original files found,
  or download allowed); else the one-line message saying which files are
  missing and where they go. Reads nothing."""
  spec = specs.get_spec(name)
  if (download or find_raw_dir(spec, data_dir) is not None or
      tfds.builder(spec.tfds_name,
                   data_dir=tfds_data_dir(tfds_dir)).is_prepared()):
    return None
  return _missing_message(spec, data_dir)


def load_arrays(name: str, split: str, data_dir: str = "",
                tfds_dir: str = "",
                download: bool = False) -> Tuple[np.ndarray, np.ndarray]:
  """The whole split as (uint8 images [N, H, W, C], int32 labels [N]).

  Every dataset the paper uses fits in host memory (at most 99k 32x32x3
  images: SVHN without `extra`), and every host needs all labels to choose
  the same long-tailed subset, so the split is read whole, in its stored
  order; each host then processes only its own rows (input_pipeline).
  """
  builder = prepare(name, data_dir, tfds_dir, download)
  try:
    data = tfds.as_numpy(
        builder.as_dataset(split=split, batch_size=-1, shuffle_files=False))
  except (tf.errors.DataLossError, tf.errors.InvalidArgumentError,
          tf.errors.NotFoundError) as e:
    first = str(e).strip().splitlines()[0][:160] if str(e) else ""
    raise DataError(
        f"the prepared copy of {name} in {builder.data_dir} is damaged "
        f"({type(e).__name__}: {first}); delete {builder.data_dir} and rerun "
        "the same command: it is prepared again from the original files"
    ) from None
  return data["image"].astype(np.uint8), data["label"].astype(np.int32)
