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


def evaluate(count_fn: Callable, state, batches: Iterable, num_classes: int):
  """Runs jitted `count_fn(state, batch) -> (correct, total)` over batches."""
  correct = np.zeros(num_classes)
  total = np.zeros(num_classes)
  for batch in batches:
    c, t = count_fn(state, batch)
    correct += np.asarray(c)
    total += np.asarray(t)
  return summarize(correct, total)
