import numpy as np
import pytest

from wcgen.data import long_tail
from wcgen.errors import ConfigError


@pytest.mark.parametrize("imbalance_factor", [100, 20, 1])
def test_counts_follow_n_max_mu_to_the_i(imbalance_factor):
  counts = long_tail.long_tail_counts([6000] * 10, imbalance_factor)
  mu = imbalance_factor ** (-1 / 9)
  expected = [round(6000 * mu**i) for i in range(10)]
  assert counts.tolist() == expected
  assert counts[0] == 6000
  assert counts[0] / counts[-1] == imbalance_factor  # exact: 6000/60, /300


def test_if_100_counts_are_the_known_list():
  counts = long_tail.long_tail_counts([6000] * 10, 100)
  assert counts.tolist() == [6000, 3597, 2156, 1293, 775, 465, 278, 167, 100,
                             60]


def test_indices_have_the_counts_and_depend_only_on_seed():
  labels = np.random.default_rng(1).permutation(np.repeat(np.arange(10), 300))
  a = long_tail.long_tail_indices(labels, 20, seed=3)
  b = long_tail.long_tail_indices(labels, 20, seed=3)
  c = long_tail.long_tail_indices(labels, 20, seed=4)
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)
  np.testing.assert_array_equal(
      np.bincount(labels[a], minlength=10),
      long_tail.long_tail_counts([300] * 10, 20))
  assert len(np.unique(a)) == len(a)


def test_imbalance_factor_below_one_is_rejected():
  with pytest.raises(ConfigError, match="imbalance_factor must be >= 1"):
    long_tail.long_tail_counts([10] * 10, 0.5)


def test_ldam_convention_gives_the_cifar10_lt_counts():
  counts = long_tail.long_tail_counts([5000] * 10, 100, convention="ldam")
  assert counts.tolist() == [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83,
                             50]
  # Independent formula: int(n_max * (1/IF)^(c/(C-1))), as in LDAM-DRW.
  expected = [int(5000 * (0.1 ** (c / 9))) for c in range(10)]  # IF=10
  assert long_tail.long_tail_counts([5000] * 10, 10,
                                    "ldam").tolist() == expected


def test_unknown_convention_is_rejected():
  with pytest.raises(ConfigError, match="unknown long-tail convention"):
    long_tail.long_tail_counts([10] * 10, 10, convention="exp")
