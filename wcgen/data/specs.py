"""What each dataset is: its classes, image shape and raw files.

Metadata only (no TensorFlow): the configs' checks, the step benchmark and
the reports need it on machines or in code that never load the images;
wcgen.data.sources reads the files these specs name.
"""

import dataclasses
from typing import Dict, Sequence, Tuple

from wcgen.data import cifar_python
from wcgen.data import svhn_mat
from wcgen.errors import DataError

# Debian's `dataset-fashion-mnist` installs the original IDX files here.
DEBIAN_FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

IDX_FILES = {
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

  @property
  def class_names(self) -> Tuple[str, ...]:
    """What each label means, for tables, plots and sample grids."""
    return CLASS_NAMES[self.tfds_name]


# As the datasets' own documentation names them (SVHN's label 0 is the
# digit 0: tfds maps the original 10 to 0).
CLASS_NAMES: Dict[str, Tuple[str, ...]] = {
    "fashion_mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    "mnist": tuple(str(d) for d in range(10)),
    "cifar10": ("airplane", "automobile", "bird", "cat", "deer", "dog",
                "frog", "horse", "ship", "truck"),
    "svhn_cropped": tuple(str(d) for d in range(10)),
}


def class_names(dataset: str) -> Tuple[str, ...]:
  """Names of `dataset`'s classes, in label order."""
  return get_spec(dataset).class_names


DATASETS: Dict[str, DatasetSpec] = {
    "fashion_mnist": DatasetSpec(
        "fashion_mnist", 10, (28, 28, 1),
        raw_files=IDX_FILES["train"] + IDX_FILES["test"],
        raw_subdirs=("fashion_mnist", "fashion-mnist", ""),
        system_dirs=(DEBIAN_FASHION_MNIST_DIR,),
        install_hint="or run `apt-get install dataset-fashion-mnist`"),
    "mnist": DatasetSpec(
        "mnist", 10, (28, 28, 1),
        raw_files=IDX_FILES["train"] + IDX_FILES["test"],
        raw_subdirs=("mnist", "")),
    "cifar10": DatasetSpec(
        "cifar10", 10, (32, 32, 3),
        raw_files=(cifar_python.TARBALL,),
        raw_subdirs=("cifar10", "cifar-10", "")),
    "svhn_cropped": DatasetSpec(
        "svhn_cropped", 10, (32, 32, 3),
        raw_files=(svhn_mat.FILES["train"], svhn_mat.FILES["test"]),
        raw_subdirs=("svhn_cropped", "svhn", "")),
}


def get_spec(name: str) -> DatasetSpec:
  """The spec of dataset `name`; DataError naming the choices otherwise."""
  if name not in DATASETS:
    raise DataError(f"unknown dataset {name!r}; choose one of "
                    f"{sorted(DATASETS)}")
  return DATASETS[name]
