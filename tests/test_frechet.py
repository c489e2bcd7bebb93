"""Fréchet distance against closed forms."""

import numpy as np
import pytest
import scipy.linalg

from wcgen.eval import frechet

rng = np.random.default_rng(0)


def test_a_set_against_itself_is_zero():
  x = rng.normal(size=(500, 16))
  assert frechet.feature_distance(x, x) == pytest.approx(0.0, abs=1e-8)


def test_shifted_set_is_the_squared_shift():
  x = rng.normal(size=(400, 8))
  shift = np.arange(8) * 0.1
  assert frechet.feature_distance(x, x + shift) == pytest.approx(
      np.sum(shift ** 2), rel=1e-8)
  assert frechet.feature_distance(x, x + shift) > 0


def test_diagonal_covariances_closed_form():
  a, b = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.0])
  mu_a, mu_b = np.zeros(3), np.array([1.0, 0.0, 2.0])
  expected = 1 + 4 + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
  assert frechet.frechet_distance(mu_a, np.diag(a), mu_b,
                                  np.diag(b)) == pytest.approx(expected)


def test_matches_sqrtm_on_well_conditioned_covariances():
  m = rng.normal(size=(6, 6))
  s1, s2 = m @ m.T + np.eye(6), np.cov(rng.normal(size=(50, 6)),
                                       rowvar=False)
  mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
  covmean = scipy.linalg.sqrtm(s1 @ s2).real
  reference = (np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean))
  assert frechet.frechet_distance(mu1, s1, mu2, s2) == pytest.approx(
      reference, rel=1e-6)


def test_singular_covariances_stay_finite_and_exact():
  """Fewer samples than dimensions: rank-deficient covariances."""
  x = rng.normal(size=(10, 64))
  value = frechet.feature_distance(x, x)
  assert np.isfinite(value) and value == pytest.approx(0.0, abs=1e-6)
  y = rng.normal(size=(10, 64)) * 2.0
  d = frechet.feature_distance(x, y)
  assert np.isfinite(d) and d > 0
  # Commuting rank-1 covariances: FD = (sqrt(a) - sqrt(b))^2 on the shared
  # direction.
  v = np.zeros(5)
  v[2] = 1.0
  s_a, s_b = 4.0 * np.outer(v, v), 1.0 * np.outer(v, v)
  assert frechet.frechet_distance(np.zeros(5), s_a, np.zeros(5),
                                  s_b) == pytest.approx(1.0)
