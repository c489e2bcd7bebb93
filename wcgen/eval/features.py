"""The classifier's penultimate features: t-SNE pictures and the FCD.

The paper's Fig. 2a-c shows t-SNE embeddings of a classifier's features
for real images, GAN samples and worst-case samples. `run_features` reads
a finished run back (config.json + latest checkpoint) so the pictures and
distances can be made after training, for any method with a generator.
"""

import json
import os
from typing import Dict, Optional, Sequence, Tuple

import jax
import jax.numpy as jnp
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
import ml_collections
import numpy as np

from wcgen import methods
from wcgen.errors import DataError
from wcgen.core import checkpointing
from wcgen.core import files
from wcgen.core import recorded_config
from wcgen.data import input_pipeline

Group = Tuple[np.ndarray, np.ndarray]  # features [N, D], labels [N]


def load_run(workdir: str, step: Optional[int] = None):
  """(config, method, state) of the finished or checkpointed run: its
  latest checkpoint, or that of `step` (one the run keeps)."""
  config, method, state = load_method(workdir)
  ckpt = checkpointing.Checkpointer(os.path.join(workdir, "checkpoints"))
  if ckpt.latest_step is None:
    raise DataError(f"{workdir} has no checkpoint yet; train it first")
  state = (ckpt.restore_or(state) if step is None
           else ckpt.restore(step, state))
  ckpt.close()
  return config, method, state


def load_method(workdir: str):
  """(config, method, initial state) of the run in `workdir`, as its
  recorded config builds them: the template its checkpoints restore
  into."""
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    raise DataError(f"{workdir} holds no run (no config.json); give the "
                    "--workdir of a run of launch/main.py")
  with open(path) as f:
    config = ml_collections.ConfigDict(recorded_config.complete(json.load(f)))
  from wcgen.data import specs  # pylint: disable=g-import-not-at-top
  spec = specs.get_spec(config.data.name)
  method = methods.create(config, spec.num_classes, spec.image_shape[-1])
  image_shape = (config.data.image_size,) * 2 + (spec.image_shape[-1],)
  return config, method, method.init(jax.random.PRNGKey(0), image_shape)


def penultimate_features(method, state, images: np.ndarray,
                         batch_size: int = 500) -> np.ndarray:
  """Features [N, D] of the method's classifier (inference mode)."""
  apply = jax.jit(method.classifier_features)
  out = [np.asarray(apply(state, jnp.asarray(images[i:i + batch_size])))
         for i in range(0, len(images), batch_size)]
  return np.concatenate(out).astype(np.float64)


def generated_images(method, state, labels: np.ndarray, seed: int = 0,
                     batch_size: int = 500,
                     seeds: Optional[np.ndarray] = None) -> np.ndarray:
  """Samples of the method's generator for `labels` (a per-sample
  generator perturbs `seeds`, real images of those labels in [-1, 1]).

  The requests are drawn in a fixed shuffled order, so that every batch
  mixes the classes as G's training batches do: a generator with
  BatchNorm in batch mode (the DCGAN G) draws other images for a batch of
  one or a few classes (class-sorted labels, e.g. 100 of each in order)
  than for the balanced batches it was trained on. The images come back
  in the order of `labels`.
  """
  if not method.has_generator:
    raise DataError("this run's method has no generator; give a run of "
                    "worst_case, gan_augment or triple_gan")
  sample = jax.jit(method.sample)
  key = jax.random.PRNGKey(seed)
  order = np.random.default_rng(seed).permutation(len(labels))
  labels = np.asarray(labels)[order]
  seeds = None if seeds is None else np.asarray(seeds)[order]
  out = []
  for i in range(0, len(labels), batch_size):
    extra = ({"seeds": jnp.asarray(seeds[i:i + batch_size])}
             if seeds is not None else {})
    images = sample(state, jax.random.fold_in(key, i),
                    jnp.asarray(labels[i:i + batch_size]), **extra)
    out.append(np.asarray(images))
  shuffled = np.concatenate(out)
  images = np.empty_like(shuffled)
  images[order] = shuffled
  return images


def seed_images(data: input_pipeline.Datasets, labels: np.ndarray,
                rng: np.random.Generator) -> np.ndarray:
  """For each label, a training image of that class (drawn with
  replacement, as the class-balanced stream does), in [-1, 1]: what a
  per-sample generator perturbs."""
  index = np.array([rng.choice(np.flatnonzero(data.train_labels == y))
                    for y in labels])
  return input_pipeline.preprocess_images(
      data.train_images[index], data.image_shape[0]).numpy()


def run_samples(method, state, labels: np.ndarray,
                data: Optional[input_pipeline.Datasets] = None,
                seed: int = 0) -> np.ndarray:
  """Samples of a run's generator for `labels`, whatever its form: the
  paper's G(z, y) draws them from noise; a per-sample G(x_i, y_i, z)
  perturbs training images of those labels from `data` (the run's own
  training split; drawn with `seed`), which it then needs."""
  seeds = None
  if method.per_sample:
    if data is None:
      raise ValueError("a per-sample generator perturbs training images: "
                       "pass the run's data")
    seeds = seed_images(data, labels, np.random.default_rng(seed))
  return generated_images(method, state, labels, seed, seeds=seeds)


def tsne(features: np.ndarray, seed: int = 0) -> np.ndarray:
  """2-D t-SNE embedding [N, 2] (scikit-learn, PCA initialisation)."""
  from sklearn.manifold import TSNE  # pylint: disable=g-import-not-at-top
  perplexity = float(min(30.0, max(2.0, (len(features) - 1) / 3)))
  return TSNE(2, perplexity=perplexity, init="pca", random_state=seed
              ).fit_transform(features)


def plot_embedding(groups: Dict[str, Group], embedding: np.ndarray,
                   class_names: Optional[Sequence[str]] = None,
                   title: Optional[str] = None) -> Figure:
  """One panel per group of a shared 2-D embedding (rows in the groups'
  order), points coloured by class; with `class_names` a legend names the
  classes (a colour bar of class numbers otherwise)."""
  names = list(groups)
  fig = Figure(figsize=(4 * len(names) + (1.6 if class_names else 0), 4))
  axes = fig.subplots(1, len(names), squeeze=False)[0]
  start = 0
  for ax, name in zip(axes, names):
    labels = groups[name][1]
    part = embedding[start:start + len(labels)]
    start += len(labels)
    points = ax.scatter(part[:, 0], part[:, 1], c=labels, cmap="tab10",
                        s=4, vmin=0, vmax=9)
    ax.set_title(name)
    ax.set_xticks([])
    ax.set_yticks([])
  if class_names:
    colours = points.cmap(points.norm(np.arange(len(class_names))))
    handles = [Line2D([], [], marker="o", linestyle="", color=colour,
                      markersize=5) for colour in colours]
    axes[-1].legend(handles, list(class_names), loc="center left",
                    bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
  else:
    fig.colorbar(points, ax=list(axes), label="class")
  if title:
    fig.suptitle(title)
  return fig


def tsne_figure(groups: Dict[str, Group], path: str, seed: int = 0,
                title: Optional[str] = None,
                class_names: Optional[Sequence[str]] = None) -> np.ndarray:
  """One shared t-SNE of every group's features, one panel per group,
  points coloured by class (named when `class_names` is given). Writes a
  PNG; returns the embedding."""
  features = np.concatenate([groups[n][0] for n in groups])
  embedding = tsne(features, seed)
  files.atomic_write_figure(
      plot_embedding(groups, embedding, class_names, title), path)
  return embedding
