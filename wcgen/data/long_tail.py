"""The long-tailed training sets of the paper and of the LT literature.

Two conventions for how many images class c keeps, with C classes, n_c
images of class c in the balanced set and imbalance factor IF = (largest
class) / (smallest class):

* "paper": n_c * mu^c with mu = IF^(-1/(C-1)), rounded to the nearest
  integer, so IF=100 on 6000 images per class gives 6000 ... 60 exactly
  (a floor would give 59 through round-off).
* "ldam": int(n_max * IF^(-c/(C-1))), floored, as in the LDAM-DRW and
  class-balanced-loss code used across the CIFAR-10-LT literature (IF=100
  on CIFAR-10 gives 5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50).
"""

import numpy as np

from wcgen.errors import ConfigError

CONVENTIONS = ("paper", "ldam")


def long_tail_counts(class_counts, imbalance_factor: float,
                     convention: str = "paper") -> np.ndarray:
  """Images kept per class.

  Args:
    class_counts: images per class in the balanced set, [C].
    imbalance_factor: largest / smallest class after the transform, >= 1.
    convention: "paper" or "ldam" (see the module docstring).
  """
  if not imbalance_factor >= 1:
    raise ConfigError(f"imbalance_factor must be >= 1 (1 = balanced), got "
                      f"{imbalance_factor}")
  if convention not in CONVENTIONS:
    raise ConfigError(f"unknown long-tail convention {convention!r}; choose "
                      f"one of {list(CONVENTIONS)}")
  counts = np.asarray(class_counts, np.int64)
  num_classes = len(counts)
  exponents = np.arange(num_classes) / max(num_classes - 1, 1)
  decay = float(imbalance_factor) ** -exponents
  if convention == "paper":
    kept = np.rint(counts * decay)
  else:
    kept = np.minimum(np.floor(counts.max() * decay), counts)
  return np.maximum(kept, 1).astype(np.int64)


def choose_per_class(labels: np.ndarray, keep: np.ndarray,
                     rng: np.random.Generator) -> np.ndarray:
  """Sorted indices of a seeded choice of keep[c] images of each class c."""
  chosen = [
      rng.choice(np.flatnonzero(labels == c), keep[c], replace=False)
      for c in range(len(keep))
  ]
  return np.sort(np.concatenate(chosen)).astype(np.int64)


def long_tail_indices(labels: np.ndarray, imbalance_factor: float, seed: int,
                      convention: str = "paper",
                      num_classes: int = 0) -> np.ndarray:
  """Sorted indices of the images a long-tailed subset keeps.

  Which images of class c are kept is a seeded random choice, so the same
  seed gives the same subset on every host and every run.
  """
  labels = np.asarray(labels)
  num_classes = num_classes or int(labels.max()) + 1
  counts = np.bincount(labels, minlength=num_classes)
  keep = long_tail_counts(counts, imbalance_factor, convention)
  return choose_per_class(labels, keep, np.random.default_rng(seed))
