"""Fréchet distance between Gaussians fitted to feature sets (FID / FCD).

FD = ||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a^1/2 S_b S_a^1/2)^1/2).

The trace of the matrix square root is computed from the eigenvalues of
the symmetric PSD matrix S_a^1/2 S_b S_a^1/2 (negative round-off clipped to
0), not from scipy.linalg.sqrtm(S_a S_b): the product of two covariances
is not symmetric, and with fewer samples than feature dimensions (singular
covariances) sqrtm returns complex or non-finite values that other FID
codes patch by adding eps * I. Here no patch is needed.

FID uses Inception-v3 pool features (weights from a local file); FCD, which
we report because those weights cannot be downloaded here, uses the
penultimate features of a classifier trained on the full balanced training
set. The two are different scales: an FCD is never compared with the
paper's FID.
"""

from typing import Tuple

import numpy as np


def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
  """Symmetric square root of a symmetric PSD matrix (eigenvalues >= 0)."""
  values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
  return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.T


def gaussian_statistics(features: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
  """(mean [D], covariance [D, D]) of features [N, D], N >= 2, float64."""
  features = np.asarray(features, np.float64)
  if features.ndim != 2 or len(features) < 2:
    raise ValueError(f"need features [N >= 2, D], got {features.shape}")
  return features.mean(0), np.cov(features, rowvar=False)


def frechet_distance(mu_a, sigma_a, mu_b, sigma_b) -> float:
  """Fréchet distance of N(mu_a, sigma_a) and N(mu_b, sigma_b), >= 0."""
  mu_a, mu_b = np.asarray(mu_a, np.float64), np.asarray(mu_b, np.float64)
  sigma_a = np.atleast_2d(np.asarray(sigma_a, np.float64))
  sigma_b = np.atleast_2d(np.asarray(sigma_b, np.float64))
  root_a = _psd_sqrt(sigma_a)
  middle = root_a @ sigma_b @ root_a
  trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2),
                               0, None)).sum()
  value = (np.sum((mu_a - mu_b) ** 2) + np.trace(sigma_a) +
           np.trace(sigma_b) - 2 * trace_sqrt)
  return float(max(value, 0.0))


def feature_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
  """Fréchet distance between two feature sets [N, D]."""
  return frechet_distance(*gaussian_statistics(features_a),
                          *gaussian_statistics(features_b))
