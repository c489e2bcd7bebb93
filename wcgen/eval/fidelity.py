"""Class fidelity of the worst-case distribution Q, per class.

Issue 15's diagnostic of the mechanism: for generated images of each class
(balanced labels; a per-sample G perturbs training images of that class),
the accuracy of the run's own classifier C (in inference mode: what G
attacks and what is deployed) and of a frozen reference classifier trained
on the real data. A class whose samples the reference no longer
recognises carries label noise into C's training; a class whose samples C
gets right but the reference does not is one G has moved off the data.
"""

import io
from typing import Dict, Sequence

import jax
import jax.numpy as jnp
from matplotlib.figure import Figure
import numpy as np

from wcgen.core import files
from wcgen.data import input_pipeline
from wcgen.eval import features


def seed_images(data: input_pipeline.Datasets, labels: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
  """For each label, a training image of that class (drawn with
  replacement, as the class-balanced stream does), in [-1, 1]."""
  index = np.array([rng.choice(np.flatnonzero(data.train_labels == y))
                    for y in labels])
  return input_pipeline.preprocess_images(
      data.train_images[index], data.image_shape[0]).numpy()


def predictions(method, state, images: np.ndarray,
                batch_size: int = 500) -> np.ndarray:
  """The method's classifier's predicted labels (inference mode)."""
  logits = jax.jit(method.classifier_logits)
  return np.concatenate([
      np.asarray(jnp.argmax(logits(state, jnp.asarray(
          images[i:i + batch_size])), -1))
      for i in range(0, len(images), batch_size)])


def per_class_accuracy(predicted: np.ndarray, labels: np.ndarray,
                       num_classes: int) -> np.ndarray:
  hit = np.bincount(labels, weights=(predicted == labels), minlength=num_classes)
  return hit / np.maximum(np.bincount(labels, minlength=num_classes), 1)


def class_fidelity(method, state, reference_method, reference_state,
                   data: input_pipeline.Datasets, per_class: int = 100,
                   seed: int = 0) -> Dict[str, np.ndarray]:
  """{"c_on_q", "reference_on_q"}: per-class accuracy [K] on `per_class`
  generated images of every class."""
  labels = np.repeat(np.arange(data.num_classes), per_class).astype(np.int32)
  seeds = (seed_images(data, labels, np.random.default_rng(seed))
           if method.per_sample else None)
  images = features.generated_images(method, state, labels, seed,
                                     seeds=seeds)
  return {
      "c_on_q": per_class_accuracy(predictions(method, state, images), labels,
                                   data.num_classes),
      "reference_on_q": per_class_accuracy(
          predictions(reference_method, reference_state, images), labels,
          data.num_classes),
  }


def fidelity_figure(result: Dict[str, np.ndarray],
                    class_names: Sequence[str], path: str,
                    title: str = "") -> None:
  """Grouped bars per class: C's and the reference's accuracy on Q."""
  fig = Figure(figsize=(9, 3.5))
  ax = fig.subplots()
  x = np.arange(len(class_names))
  for offset, (key, label) in zip(
      (-0.2, 0.2), (("c_on_q", "C (the run's classifier)"),
                    ("reference_on_q", "reference classifier (real data)"))):
    ax.bar(x + offset, 100 * np.asarray(result[key]), 0.4, label=label)
  ax.set_xticks(x, class_names, rotation=30, ha="right")
  ax.set_ylabel("accuracy on Q (%)")
  ax.set_ylim(0, 100)
  ax.legend(loc="lower left", fontsize=8)
  if title:
    ax.set_title(title, fontsize=9)
  buf = io.BytesIO()
  fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
  files.atomic_write_bytes(path, buf.getvalue())
