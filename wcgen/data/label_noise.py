"""Label noise for training sets: symmetric and pair flips at rate r.

Beyond the paper: users who study "bad data" ask for noisy labels too. The
clean labels are kept beside the noisy ones so the damage can be measured.

* symmetric: with probability r a label is replaced by one of the other
  C-1 classes, uniformly; the transition matrix is (1-r) I + r/(C-1)
  (11^T - I), so exactly the fraction r (in expectation) is wrong.
* pair: with probability r class c becomes class (c+1) mod C.
"""

import numpy as np

from wcgen.errors import ConfigError

KINDS = ("none", "symmetric", "pair")


def transition_matrix(kind: str, rate: float, num_classes: int) -> np.ndarray:
  """T[i, j] = P(noisy label j | clean label i)."""
  eye = np.eye(num_classes)
  if kind == "none" or rate == 0:
    return eye
  if kind == "symmetric":
    return (1 - rate) * eye + rate / (num_classes - 1) * (1 - eye)
  if kind == "pair":
    return (1 - rate) * eye + rate * np.roll(eye, 1, axis=1)
  raise ConfigError(f"unknown label_noise {kind!r}; choose one of "
                    f"{list(KINDS)}")


def max_rate(kind: str, num_classes: int) -> float:
  """The rate from which the noise stops being noise: the clean label is
  no longer the most likely noisy label of its class (pair: r >= 1/2, the
  flip target wins; symmetric: r >= (C-1)/C, every label equally likely),
  so nothing about the clean labels can be learned."""
  return 0.5 if kind == "pair" else (num_classes - 1) / num_classes


def check(kind: str, rate: float, num_classes: int) -> None:
  """One-line ConfigError for an unknown kind or a rate out of range."""
  if kind not in KINDS:
    raise ConfigError(f"unknown data.label_noise {kind!r}; choose one of "
                      f"{list(KINDS)}")
  if not 0 <= rate < 1:
    raise ConfigError(f"data.label_noise_rate must be in [0, 1), got {rate}")
  if kind != "none" and rate >= max_rate(kind, num_classes):
    raise ConfigError(
        f"data.label_noise_rate={rate} with {kind} noise over {num_classes} "
        f"classes must be below {max_rate(kind, num_classes):.3g}: from "
        "there the clean label is no longer the most likely one")


def add_label_noise(labels: np.ndarray, kind: str, rate: float, seed: int,
                    num_classes: int) -> np.ndarray:
  """Noisy copy of int labels [N]; a seeded draw from transition_matrix."""
  check(kind, rate, num_classes)
  labels = np.asarray(labels)
  if kind == "none" or rate == 0:
    return labels.copy()
  rng = np.random.default_rng([seed, 2])  # a stream of its own
  flip = rng.random(len(labels)) < rate
  if kind == "symmetric":
    # An offset in 1..C-1 picks one of the other classes uniformly.
    offset = rng.integers(1, num_classes, len(labels))
  else:
    offset = np.ones(len(labels), np.int64)
  noisy = np.where(flip, (labels + offset) % num_classes, labels)
  return noisy.astype(labels.dtype)
