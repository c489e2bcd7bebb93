"""Reader for SVHN's cropped-digit MATLAB files (`train_32x32.mat`, ...).

Each file holds `X`, uint8 [32, 32, 3, N], and `y`, [N, 1] with labels 1..10
where 10 stands for the digit 0 (tfds' `svhn_cropped` maps it to 0, as here).
"""

from typing import Tuple

import numpy as np
import scipy.io

from wcgen.errors import DataError

FILES = {"train": "train_32x32.mat", "test": "test_32x32.mat",
         "extra": "extra_32x32.mat"}


def read_svhn_mat(path: str) -> Tuple[np.ndarray, np.ndarray]:
  """(uint8 images [N, 32, 32, 3], int32 digit labels [N] in 0..9).

  Raises:
    DataError: if the file is missing, truncated or not an SVHN .mat file.
  """
  try:
    mat = scipy.io.loadmat(path)
  except FileNotFoundError:
    raise DataError(f"missing data file {path}") from None
  except Exception as e:  # scipy raises many kinds on a damaged file
    raise DataError(f"cannot read {path} ({type(e).__name__}: {e}); it is "
                    "truncated or not an SVHN .mat file: replace it with an "
                    "intact copy") from None
  if "X" not in mat or "y" not in mat:
    raise DataError(f"{path} has no X and y arrays; put the original SVHN "
                    "cropped-digit file there")
  images = np.asarray(mat["X"])
  labels = np.asarray(mat["y"]).reshape(-1)
  if (images.shape[:3] != (32, 32, 3) or images.ndim != 4 or
      images.shape[3] != len(labels)):
    raise DataError(f"{path}: X has shape {images.shape} and y {len(labels)} "
                    "entries, not [32, 32, 3, N] and N; put the original SVHN "
                    "cropped-digit file there")
  if labels.size and (labels.min() < 1 or labels.max() > 10):
    raise DataError(f"{path}: labels outside 1..10; put the original SVHN "
                    "cropped-digit file there")
  images = np.ascontiguousarray(np.moveaxis(images, -1, 0), np.uint8)
  return images, (labels % 10).astype(np.int32)
