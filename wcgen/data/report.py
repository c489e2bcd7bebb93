"""What a run trains and tests on: counts per class and pictures.

`summarize` gives the numbers (per-class train/test counts, label-noise
damage, how many test images are distorted); `write_report` adds a class
histogram, a grid of clean vs distorted test images and, with label noise,
examples of flipped labels. Used by `launch/data_report.py`.
"""

import os
from typing import Any, Dict

# Figures are built without pyplot (no global backend to set, nothing
# left open), so the library can be used inside notebooks.
from matplotlib.figure import Figure
import numpy as np

from wcgen.data import input_pipeline
from wcgen.data import specs
from wcgen.core import image_grid
from wcgen.core import files


def summarize(data: input_pipeline.Datasets) -> Dict[str, Any]:
  """Per-class counts and the bad-data transforms' measured effects."""
  train = data.train_class_counts
  clean = np.bincount(data.train_clean_labels, minlength=data.num_classes)
  flipped = data.train_labels != data.train_clean_labels
  return {
      "dataset": data.name,
      "train_images": int(len(data.train_labels)),
      "test_images": int(len(data.test_labels)),
      "train_per_class": train.tolist(),
      "train_per_class_clean_labels": clean.tolist(),
      "test_per_class": data.test_class_counts.tolist(),
      "imbalance_factor_measured": float(clean.max() / max(clean.min(), 1)),
      "label_noise_rate_measured": float(flipped.mean()) if len(flipped) else 0.0,
      "test_distortion": data.distortion.kind,
      "test_distortion_level": data.distortion.level,
      "test_images_distorted": int(data.distortion.chosen(
          len(data.test_labels)).sum()),
  }


def format_table(summary: Dict[str, Any]) -> str:
  """Plain-text table of per-class counts, classes by name, for the
  console."""
  names = specs.class_names(summary["dataset"])
  width = max(len("class"), *(len(n) for n in names))
  lines = [f"{'class':<{width}} {'train':>7} {'train(clean)':>12} "
           f"{'test':>6}"]
  for name, n, m, t in zip(names, summary["train_per_class"],
                           summary["train_per_class_clean_labels"],
                           summary["test_per_class"]):
    lines.append(f"{name:<{width}} {n:>7} {m:>12} {t:>6}")
  lines.append(f"{'all':<{width}} {summary['train_images']:>7} "
               f"{summary['train_images']:>12} {summary['test_images']:>6}")
  return "\n".join(lines)


def class_histogram(summary: Dict[str, Any], path: str) -> None:
  """Bar chart of training images per class (clean and noisy labels)."""
  clean = np.asarray(summary["train_per_class_clean_labels"])
  noisy = np.asarray(summary["train_per_class"])
  classes = np.arange(len(clean))
  fig = Figure(figsize=(6, 3.5))
  ax = fig.subplots()
  ax.bar(classes - 0.2, clean, 0.4, label="train (clean labels)")
  ax.bar(classes + 0.2, noisy, 0.4, label="train (labels trained on)")
  ax.set_yscale("log")
  ax.set_xticks(classes, specs.class_names(summary["dataset"]),
                rotation=45, ha="right", fontsize=8)
  ax.set_ylabel("images")
  ax.set_title(f"{summary['dataset']}: {summary['train_images']} training "
               f"images, IF {summary['imbalance_factor_measured']:.0f}")
  ax.legend(fontsize=8)
  files.atomic_write_figure(fig, path)


def _test_images(data, distorted: bool, count: int) -> np.ndarray:
  rows = np.arange(count)
  batch = next(data.eval_dataset(count, rows, distorted).as_numpy_iterator())
  return batch["image"]


def distortion_grid(data: input_pipeline.Datasets, path: str,
                    count: int = 12) -> None:
  """Top row: clean test images; bottom row: the same, distorted (only the
  chosen fraction differ)."""
  count = min(count, len(data.test_labels))
  clean = _test_images(data, False, count)
  distorted = _test_images(data, True, count)
  grid = image_grid.make_grid(np.concatenate([clean, distorted]), rows=2)
  image_grid.save_png(path, grid)


def label_noise_examples(data: input_pipeline.Datasets, path: str,
                         count: int = 10) -> int:
  """Training images whose label was flipped, titled with the clean and
  the noisy class names.
  Returns how many were drawn (0 writes nothing)."""
  flipped = np.flatnonzero(data.train_labels != data.train_clean_labels)
  flipped = flipped[:count]
  if not len(flipped):
    return 0
  names = specs.class_names(data.name)
  fig = Figure(figsize=(1.5 * len(flipped), 1.8))
  axes = fig.subplots(1, len(flipped), squeeze=False)
  for ax, i in zip(axes[0], flipped):
    image = data.train_images[i]
    ax.imshow(image[..., 0] if image.shape[-1] == 1 else image,
              cmap="gray" if image.shape[-1] == 1 else None)
    ax.set_title(f"{names[data.train_clean_labels[i]]}\n"
                 f"-> {names[data.train_labels[i]]}", fontsize=7)
    ax.axis("off")
  files.atomic_write_figure(fig, path)
  return len(flipped)


def write_report(data: input_pipeline.Datasets, workdir: str
                 ) -> Dict[str, Any]:
  """Writes data_report.json and the pictures into `workdir`."""
  summary = summarize(data)
  class_histogram(summary, os.path.join(workdir, "class_histogram.png"))
  distortion_grid(data, os.path.join(workdir, "test_clean_vs_distorted.png"))
  label_noise_examples(data, os.path.join(workdir, "label_noise_examples.png"))
  files.atomic_write_json(os.path.join(workdir, "data_report.json"), summary)
  return summary
