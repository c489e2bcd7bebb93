"""Reduced training sets: a seeded, stratified fraction of every class.

The paper trains on 20% and 30% of CIFAR-10 and SVHN. Each class keeps
round(fraction * n_c) images (at least one), so class proportions survive.
"""

import numpy as np

from wcgen.data import long_tail
from wcgen.errors import ConfigError


def reduced_counts(class_counts, fraction: float) -> np.ndarray:
  """Images kept per class: round(fraction * n_c), at least 1 if n_c > 0."""
  if not 0 < fraction <= 1:
    raise ConfigError(f"train_fraction must be in (0, 1], got {fraction}; "
                      "the paper uses 0.2 and 0.3")
  counts = np.asarray(class_counts, np.int64)
  kept = np.rint(counts * float(fraction)).astype(np.int64)
  return np.where(counts > 0, np.maximum(kept, 1), 0)


def reduced_indices(labels: np.ndarray, fraction: float, seed: int,
                    num_classes: int) -> np.ndarray:
  """Sorted indices of a stratified `fraction` of `labels`."""
  labels = np.asarray(labels)
  keep = reduced_counts(np.bincount(labels, minlength=num_classes), fraction)
  # A stream apart from the long tail's, which uses default_rng(seed).
  rng = np.random.default_rng([seed, 1])
  return long_tail.choose_per_class(labels, keep, rng)
