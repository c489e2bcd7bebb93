"""The long-tailed training sets of the paper, chosen reproducibly.

The paper keeps n_i * mu^i images of class i, with mu in (0, 1) set by the
imbalance factor IF = (largest class) / (smallest class) = mu^-(C-1).
Counts are rounded to the nearest integer, so IF=100 on 6000 images per
class gives 6000 ... 60 exactly (a floor would give 59 through round-off).
"""

import numpy as np

from wcgen.errors import ConfigError


def long_tail_counts(class_counts, imbalance_factor: float) -> np.ndarray:
  """Images kept per class: round(n_i * mu^i) with mu = IF^(-1/(C-1)).

  Args:
    class_counts: images per class in the balanced set, [C].
    imbalance_factor: largest / smallest class after the transform, >= 1.
  """
  if not imbalance_factor >= 1:
    raise ConfigError(f"imbalance_factor must be >= 1 (1 = balanced), got "
                      f"{imbalance_factor}")
  counts = np.asarray(class_counts, np.int64)
  num_classes = len(counts)
  exponents = np.arange(num_classes) / max(num_classes - 1, 1)
  kept = np.rint(counts * float(imbalance_factor) ** -exponents)
  return np.maximum(kept, 1).astype(np.int64)


def long_tail_indices(labels: np.ndarray, imbalance_factor: float,
                      seed: int) -> np.ndarray:
  """Sorted indices of the images a long-tailed subset keeps.

  Which images of class i are kept is a seeded random choice, so the same
  seed gives the same subset on every host and every run.
  """
  labels = np.asarray(labels)
  num_classes = int(labels.max()) + 1
  counts = np.bincount(labels, minlength=num_classes)
  keep = long_tail_counts(counts, imbalance_factor)
  rng = np.random.default_rng(seed)
  chosen = [
      rng.choice(np.flatnonzero(labels == c), keep[c], replace=False)
      for c in range(num_classes)
  ]
  return np.sort(np.concatenate(chosen))
