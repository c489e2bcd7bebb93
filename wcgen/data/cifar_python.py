"""Reader for CIFAR-10's python distribution, `cifar-10-python.tar.gz`.

The tarball holds `cifar-10-batches-py/data_batch_1..5`, `test_batch` and
`batches.meta`, each a pickled dict (written by Python 2, hence bytes keys):
`data` is uint8 [N, 3072] with the red, green and blue 32x32 planes in turn,
`labels` a list of N ints, `label_names` (in the meta file) the class names.
"""

import pickle
import tarfile
import zlib
from typing import Dict, List, Tuple

import numpy as np

from wcgen.errors import DataError

TARBALL = "cifar-10-python.tar.gz"
_FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCHES = ("test_batch",)

Split = Tuple[np.ndarray, np.ndarray]  # uint8 [N, 32, 32, 3], int32 [N]


def _unpickle(tar: tarfile.TarFile, name: str, path: str) -> Dict:
  member = tar.extractfile(f"{_FOLDER}/{name}")
  if member is None:
    raise DataError(f"{path} has no regular file {_FOLDER}/{name}; put the "
                    f"original {TARBALL} there")
  return pickle.load(member, encoding="bytes")


def _batch_arrays(batch: Dict, name: str, path: str) -> Split:
  data = np.asarray(batch.get(b"data"), np.uint8)
  labels = np.asarray(batch.get(b"labels"), np.int32)
  if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
    raise DataError(f"{path}: {name} holds data of shape {data.shape} and "
                    f"{labels.shape} labels, not [N, 3072] and [N]; put the "
                    f"original {TARBALL} there")
  images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
  return np.ascontiguousarray(images), labels


def read_cifar10(path: str) -> Tuple[Dict[str, Split], List[str]]:
  """Reads the tarball into {"train": ..., "test": ...} and class names.

  Raises:
    DataError: if the file is missing, truncated, or not the python
      version of CIFAR-10 (e.g. the binary or MATLAB one).
  """
  try:
    with tarfile.open(path, "r:gz") as tar:
      names = [n.decode() for n in _unpickle(
          tar, "batches.meta", path)[b"label_names"]]
      splits = {}
      for split, batch_names in (("train", TRAIN_BATCHES),
                                 ("test", TEST_BATCHES)):
        parts = [_batch_arrays(_unpickle(tar, b, path), b, path)
                 for b in batch_names]
        splits[split] = (np.concatenate([p[0] for p in parts]),
                         np.concatenate([p[1] for p in parts]))
  except FileNotFoundError:
    raise DataError(f"missing data file {path}") from None
  except KeyError as e:  # a member or a dict key that is not there
    raise DataError(f"{path} lacks {e}; put the original {TARBALL} (python "
                    "version) there") from None
  except (tarfile.TarError, EOFError, OSError, zlib.error,
          pickle.UnpicklingError, ValueError) as e:
    raise DataError(f"cannot read {path} ({type(e).__name__}: {e}); it is "
                    f"truncated or not {TARBALL}: replace it with an intact "
                    "copy") from None
  return splits, names
