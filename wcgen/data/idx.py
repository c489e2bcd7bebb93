"""Reader and writer for the IDX format of MNIST and Fashion-MNIST.

The original distribution files are gzip-compressed IDX: a big-endian magic
number (two zero bytes, a type code, the number of dimensions), one uint32
per dimension, then the raw data. Debian's `dataset-fashion-mnist` ships
these files unchanged apart from the gzip header.
"""

import gzip
import os
import struct

import numpy as np

from wcgen.errors import DataError

_UBYTE = 0x08


def read_idx(path: str) -> np.ndarray:
  """Reads an IDX file (gzip-compressed or not) into a uint8 array.

  Raises:
    DataError: if the file is missing, not IDX, or shorter than its header
      says.
  """
  if not os.path.exists(path):
    raise DataError(f"missing data file {path}")
  opener = gzip.open if path.endswith(".gz") else open
  try:
    with opener(path, "rb") as f:
      data = f.read()
  except (OSError, EOFError) as e:
    raise DataError(f"{path} is truncated or damaged ({e}); replace it "
                    "with an intact copy of the original file") from None
  if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != _UBYTE:
    raise DataError(f"{path} is not an unsigned-byte IDX file; put the "
                    "original MNIST/Fashion-MNIST file there")
  ndim = data[3]
  header = 4 + 4 * ndim
  if len(data) < header:
    raise DataError(f"{path} is truncated (header cut short); replace it "
                    "with an intact copy")
  shape = struct.unpack(f">{ndim}I", data[4:header])
  size = int(np.prod(shape))
  if len(data) - header != size:
    raise DataError(f"{path} is truncated or padded: {len(data) - header} "
                    f"bytes of data, header says {size}; replace it with an "
                    "intact copy")
  return np.frombuffer(data, np.uint8, size, header).reshape(shape)


def write_idx(path: str, array: np.ndarray) -> None:
  """Writes a uint8 array as a gzip-compressed IDX file (if path ends .gz)."""
  array = np.ascontiguousarray(array, np.uint8)
  payload = bytes([0, 0, _UBYTE, array.ndim]) + struct.pack(
      f">{array.ndim}I", *array.shape) + array.tobytes()
  opener = gzip.open if path.endswith(".gz") else open
  with opener(path, "wb") as f:
    f.write(payload)
