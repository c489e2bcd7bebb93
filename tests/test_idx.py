import gzip
import os

import numpy as np
import pytest

from conftest import write_idx_gz
from wcgen.data import idx
from wcgen.errors import DataError


def test_reads_what_a_hand_written_idx_file_holds(tmp_path):
  array = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
  path = str(tmp_path / "a-idx3-ubyte.gz")
  write_idx_gz(path, array)
  np.testing.assert_array_equal(idx.read_idx(path), array)


def test_writer_round_trips_plain_and_gzip(tmp_path):
  array = np.random.default_rng(0).integers(0, 255, (4, 7), dtype=np.uint8)
  for name in ("b.idx", "b.idx.gz"):
    idx.write_idx(str(tmp_path / name), array)
    np.testing.assert_array_equal(idx.read_idx(str(tmp_path / name)), array)


def test_truncated_file_names_itself(tmp_path):
  path = str(tmp_path / "t.gz")
  write_idx_gz(path, np.zeros((10, 4, 4), np.uint8))
  with gzip.open(path) as f:
    data = f.read()
  with gzip.open(path, "wb") as f:
    f.write(data[:-7])
  with pytest.raises(DataError, match="t.gz is truncated"):
    idx.read_idx(path)


def test_wrong_format_and_missing_file(tmp_path):
  path = str(tmp_path / "x.gz")
  with gzip.open(path, "wb") as f:
    f.write(b"PK\x03\x04 not idx")
  with pytest.raises(DataError, match="not an unsigned-byte IDX"):
    idx.read_idx(path)
  with pytest.raises(DataError, match="missing data file"):
    idx.read_idx(str(tmp_path / "nope.gz"))
  bad_gzip = str(tmp_path / "y.gz")
  with open(bad_gzip, "wb") as f:
    f.write(b"\x1f\x8b\x08garbage")
  with pytest.raises(DataError, match="is truncated or damaged"):
    idx.read_idx(bad_gzip)
  assert not os.path.exists(str(tmp_path / "nope.gz"))
