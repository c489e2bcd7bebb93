"""How much of a difference between two runs the evaluated images explain.

Welch's test over seeds (experiments.sweep.welch) asks whether two methods
differ by more than training randomness allows, on one fixed split. It
cannot see the split's own sampling error: every run is scored on the
same few hundred images a class, so a difference that lives in those
images repeats on every seed and looks certain. Scoring both runs image
by image on the same split gives that error directly: with each image's
correctness averaged over seeds, d_i = a_i - b_i, the mean difference is
mean(d) and its standard error over images is std(d) / sqrt(n) (the
paired, McNemar-type comparison of two classifiers on one test set;
Dietterich, Neural Computation 1998).
"""

from typing import Dict, Sequence

import numpy as np
from scipy import stats


def image_paired(correct_a: Sequence[np.ndarray],
                 correct_b: Sequence[np.ndarray]) -> Dict[str, float]:
  """correct_a, correct_b: each seed's [n] correctness flags of two runs on
  the same images in the same order (posthoc.correct_per_image). Returns
  {"delta", "se", "z", "p", "discordant", "images"}: the difference of
  the mean accuracies, its standard error over images, the normal z and
  two-sided p, and the fraction of images the two runs' seeds score
  differently on average (how much the two classifiers disagree)."""
  a = np.asarray(correct_a, np.float64)
  b = np.asarray(correct_b, np.float64)
  if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
    raise ValueError(f"need [seeds, n] flags on the same n images, got "
                     f"{a.shape} and {b.shape}")
  d = a.mean(0) - b.mean(0)
  n = d.size
  se = float(d.std(ddof=1) / np.sqrt(n)) if n > 1 else float("nan")
  delta = float(d.mean())
  z = delta / se if se > 0 else float("nan")
  return {"delta": delta, "se": se, "z": z,
          "p": float(2 * stats.norm.sf(abs(z))) if z == z else float("nan"),
          "discordant": float(np.mean(np.abs(d))), "images": float(n)}
