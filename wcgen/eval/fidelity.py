"""Class fidelity of the worst-case distribution Q, per class.

Issue 15's diagnostic of the mechanism: for generated images of each class
(balanced labels; a per-sample G perturbs training images of that class),
the accuracy of the run's own classifier C (in inference mode: what G
attacks and what is deployed) and of a frozen reference classifier trained
on the real data. A class whose samples the reference no longer
recognises carries label noise into C's training; a class whose samples C
gets right but the reference does not is one G has moved off the data.
"""

from typing import Any, Callable, Dict, List, Optional, Sequence

import jax
import jax.numpy as jnp
from matplotlib.figure import Figure
import numpy as np

from wcgen.core import files
from wcgen.data import input_pipeline
from wcgen.eval import features


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
  images = features.run_samples(method, state, labels, data, seed)
  return {
      "c_on_q": per_class_accuracy(predictions(method, state, images), labels,
                                   data.num_classes),
      "reference_on_q": per_class_accuracy(
          predictions(reference_method, reference_state, images), labels,
          data.num_classes),
  }


def metric_name(judge: str, class_name: str) -> str:
  """The scalar's name for one judge ("c" or "reference") and class, as
  metrics.jsonl and TensorBoard hold it ("/" in a class name would open a
  TensorBoard group, so it becomes "_")."""
  return f"fidelity/{judge}/{class_name.replace('/', '_')}"


JUDGES = (("c", "C (the run's classifier)"),
          ("reference", "reference classifier (real data)"))


class FidelityProbe:
  """Class fidelity of Q per class, logged at every evaluation of a run.

  Fixed inputs for the whole run (the same labels, the same seed images for
  a per-sample G, the same noise), so that a class's curve over training
  moves only with G and the judges: per class, the fraction of G's images
  that C (inference mode: what G attacks, what is deployed) and, when the
  run has one, the frozen reference classifier assign to their intended
  class. One jitted program; every process runs it (its output is
  replicated), as the sample grid's.
  """

  def __init__(self, method, data: input_pipeline.Datasets, per_class: int,
               seed: int, class_names: Sequence[str],
               reference: Optional[Callable[[jax.Array], jax.Array]] = None,
               out_shardings: Any = None):
    self.class_names = list(class_names)
    self.num_classes = data.num_classes
    self.labels = np.repeat(np.arange(data.num_classes),
                            per_class).astype(np.int32)
    seeds = (features.seed_images(data, self.labels,
                                  np.random.default_rng(seed))
             if method.per_sample else None)
    key = jax.random.fold_in(jax.random.PRNGKey(seed), 0xF1D)
    labels = jnp.asarray(self.labels)
    extra = {"seeds": jnp.asarray(seeds)} if seeds is not None else {}

    def predicted(state):
      images = method.sample(state, key, labels, **extra)
      judged = {"c": method.classifier_logits(state, images)}
      if reference is not None:
        judged["reference"] = reference(images)
      return {judge: jnp.argmax(logits, -1) for judge, logits in judged.items()}

    self._predicted = jax.jit(predicted, out_shardings=out_shardings)

  def __call__(self, state) -> Dict[str, float]:
    """{metric_name(judge, class): accuracy, "fidelity/<judge>_mean": ...}."""
    scalars = {}
    for judge, predicted in jax.device_get(self._predicted(state)).items():
      per_class = per_class_accuracy(np.asarray(predicted), self.labels,
                                     self.num_classes)
      scalars.update({metric_name(judge, name): float(a)
                      for name, a in zip(self.class_names, per_class)})
      scalars[f"fidelity/{judge}_mean"] = float(per_class.mean())
    return scalars


def curves(rows: List[Dict[str, Any]], class_names: Sequence[str]
           ) -> Dict[str, Dict[str, np.ndarray]]:
  """From metrics.jsonl's rows, each judge's {"steps": [T], "accuracy":
  [T, K]} over the evaluations that logged it (judges never logged are
  left out)."""
  out = {}
  for judge, _ in JUDGES:
    keys = [metric_name(judge, name) for name in class_names]
    logged = [r for r in rows if all(k in r for k in keys)]
    if logged:
      out[judge] = {"steps": np.array([r["step"] for r in logged]),
                    "accuracy": np.array([[r[k] for k in keys]
                                          for r in logged])}
  return out


def curves_figure(judged: Dict[str, Dict[str, np.ndarray]],
                  class_names: Sequence[str], path: str,
                  title: str = "") -> None:
  """One panel per judge: each class's accuracy on Q against the step."""
  labels = dict(JUDGES)
  fig = Figure(figsize=(5 * len(judged) + 2, 3.5))
  axes = np.atleast_1d(fig.subplots(1, len(judged), sharey=True))
  for ax, (judge, curve) in zip(axes, judged.items()):
    for k, name in enumerate(class_names):
      ax.plot(curve["steps"], 100 * curve["accuracy"][:, k], marker=".",
              label=name, color=f"C{k}")
    ax.set_title(labels[judge], fontsize=9)
    ax.set_xlabel("step")
    ax.set_ylim(0, 100)
  axes[0].set_ylabel("accuracy on Q (%)")
  axes[-1].legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8)
  if title:
    fig.suptitle(title, fontsize=9)
  files.atomic_write_figure(fig, path)


def fidelity_figure(result: Dict[str, np.ndarray],
                    class_names: Sequence[str], path: str,
                    title: str = "") -> None:
  """Grouped bars per class: C's and the reference's accuracy on Q."""
  fig = Figure(figsize=(9, 3.5))
  ax = fig.subplots()
  x = np.arange(len(class_names))
  for offset, (key, (_, label)) in zip((-0.2, 0.2),
                                       zip(("c_on_q", "reference_on_q"),
                                           JUDGES)):
    ax.bar(x + offset, 100 * np.asarray(result[key]), 0.4, label=label)
  ax.set_xticks(x, class_names, rotation=30, ha="right")
  ax.set_ylabel("accuracy on Q (%)")
  ax.set_ylim(0, 100)
  ax.legend(loc="lower left", fontsize=8)
  if title:
    ax.set_title(title, fontsize=9)
  files.atomic_write_figure(fig, path)
