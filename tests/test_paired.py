"""The image-paired comparison of two runs on one split
(wcgen.experiments.paired) against hand-worked cases and McNemar's test."""

import numpy as np
import pytest
from scipy import stats

from wcgen.experiments import paired


def test_a_hand_worked_case():
  """One seed, four images, d = (1, 0, 0, 0): mean 0.25, sample std 0.5,
  standard error 0.25, z 1, p = 2 (1 - Phi(1)) = 0.3173."""
  found = paired.image_paired([np.array([1, 1, 0, 0], bool)],
                              [np.array([0, 1, 0, 0], bool)])
  assert found["delta"] == pytest.approx(0.25)
  assert found["se"] == pytest.approx(0.25)
  assert found["z"] == pytest.approx(1.0)
  assert found["p"] == pytest.approx(0.3173, abs=1e-4)
  assert found["discordant"] == pytest.approx(0.25)
  assert found["images"] == 4


def test_seeds_average_per_image_before_the_difference():
  """Two seeds: each image's correctness is averaged over the seeds first,
  so an image one seed of each run gets right is not a difference."""
  a = [np.array([1, 0, 1]), np.array([0, 0, 1])]
  b = [np.array([0, 0, 0]), np.array([1, 0, 0])]
  found = paired.image_paired(a, b)
  # d = (0.5 - 0.5, 0 - 0, 1 - 0) = (0, 0, 1)
  assert found["delta"] == pytest.approx(1 / 3)
  assert found["discordant"] == pytest.approx(1 / 3)
  assert found["se"] == pytest.approx(np.std([0, 0, 1], ddof=1) / 3 ** 0.5)


def test_one_seed_agrees_with_mcnemars_test():
  """Independent formula: for one seed, McNemar's z (without continuity
  correction) is (n10 - n01) / sqrt(n10 + n01); the paired z over images
  equals it up to the (n - 1) / n of the sample variance and the squared
  mean, negligible at n = 20,000."""
  rng = np.random.default_rng(0)
  b = rng.random(20000) < 0.85
  a = b.copy()
  flip = rng.random(20000) < 0.04
  a[flip] = rng.random(flip.sum()) < 0.6  # a gains on the flipped images
  n10, n01 = np.sum(a & ~b), np.sum(~a & b)
  mcnemar = (n10 - n01) / np.sqrt(n10 + n01)
  found = paired.image_paired([a], [b])
  assert found["z"] == pytest.approx(mcnemar, rel=0.01)
  assert found["p"] == pytest.approx(2 * stats.norm.sf(abs(mcnemar)),
                                     rel=0.05)


def test_different_images_are_refused():
  with pytest.raises(ValueError, match="same n images"):
    paired.image_paired([np.ones(3)], [np.ones(4)])
