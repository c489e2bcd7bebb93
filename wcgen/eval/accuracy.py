"""Test accuracy, overall and per class, from a method's classifier."""

from typing import Callable, Dict, Iterable

import jax
import jax.numpy as jnp
import numpy as np


def correct_counts(logits: jax.Array, labels: jax.Array, mask: jax.Array,
                   num_classes: int):
  """Per-class (correct, total) counts [K] over the rows where mask is set."""
  onehot = jax.nn.one_hot(labels, num_classes) * mask[:, None]
  hit = (jnp.argmax(logits, -1) == labels)[:, None]
  return jnp.sum(onehot * hit, 0), jnp.sum(onehot, 0)


def summarize(correct: np.ndarray, total: np.ndarray) -> Dict[str, object]:
  """Overall accuracy, per-class accuracies and the mean over classes."""
  per_class = correct / np.maximum(total, 1)
  return {
      "accuracy": float(correct.sum() / max(total.sum(), 1)),
      "balanced_accuracy": float(per_class.mean()),
      "per_class_accuracy": [float(a) for a in per_class],
  }


# Liu et al. (OLTR, CVPR 2019) groups, used across the long-tail literature:
# many-shot classes have more than 100 training images, few-shot fewer than
# 20, medium-shot the rest.
MANY_SHOT_ABOVE = 100
FEW_SHOT_BELOW = 20


def shot_group_accuracy(per_class_accuracy, train_counts,
                        many_above: int = MANY_SHOT_ABOVE,
                        few_below: int = FEW_SHOT_BELOW):
  """{"many", "medium", "few"}: mean per-class accuracy over the classes of
  each group (None for an empty group)."""
  acc = np.asarray(per_class_accuracy, np.float64)
  counts = np.asarray(train_counts)
  groups = {"many": counts > many_above,
            "medium": (counts <= many_above) & (counts >= few_below),
            "few": counts < few_below}
  return {name: (float(acc[mask].mean()) if mask.any() else None)
          for name, mask in groups.items()}


def evaluate(count_fn: Callable, state, batches: Iterable, num_classes: int):
  """Runs jitted `count_fn(state, batch) -> (correct, total)` over batches."""
  correct = np.zeros(num_classes)
  total = np.zeros(num_classes)
  for batch in batches:
    c, t = count_fn(state, batch)
    correct += np.asarray(c)
    total += np.asarray(t)
  return summarize(correct, total)
