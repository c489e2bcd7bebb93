"""Feature pictures and distances of a finished run."""

import json
import os
import shutil
import subprocess
import sys

import jax.numpy as jnp
import numpy as np

from wcgen.eval import features

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_tsne_keeps_separated_clusters_apart(tmp_path):
  rng = np.random.default_rng(0)
  centres = rng.normal(size=(3, 20)) * 10
  labels = np.repeat(np.arange(3), 40)
  feats = centres[labels] + rng.normal(size=(120, 20))
  embedding = features.tsne_figure({"a": (feats[:60], labels[:60]),
                                    "b": (feats[60:], labels[60:])},
                                   str(tmp_path / "t.png"))
  assert embedding.shape == (120, 2)
  # Nearest neighbour in the embedding has the same class.
  d = ((embedding[:, None] - embedding[None]) ** 2).sum(-1)
  np.fill_diagonal(d, np.inf)
  assert np.mean(labels[d.argmin(1)] == labels) > 0.95
  assert os.path.getsize(tmp_path / "t.png") > 1000
  # Named classes: a legend in the classes' colours, no colour bar.
  groups = {"a": (feats[:60], labels[:60]), "b": (feats[60:], labels[60:])}
  fig = features.plot_embedding(groups, embedding, ["cat", "dog", "fox"])
  legend = fig.axes[-1].get_legend()
  assert [t.get_text() for t in legend.get_texts()] == ["cat", "dog", "fox"]
  assert len(fig.axes) == 2  # the two panels; no colour-bar axes
  b_points = fig.axes[1].collections[0]
  for handle, label in zip(legend.legend_handles, range(3)):
    colour = b_points.to_rgba(label)
    np.testing.assert_allclose(handle.get_color(), colour)


def test_features_launcher_on_a_finished_run(finished_run, tmp_path):
  config, workdir, _ = finished_run
  run = str(tmp_path / "run")
  shutil.copytree(workdir, run)
  cmd = [sys.executable, os.path.join(REPO, "launch", "features.py"),
         f"--workdir={run}", "--samples=40", "--cpu_devices=1"]
  env = dict(os.environ, PYTHONPATH=REPO)
  proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600,
                        env=env)
  assert proc.returncode == 0, proc.stderr[-3000:]
  with open(os.path.join(run, "fcd.json")) as f:
    fcd = json.load(f)
  value = fcd["fcd_to_real_test_images"]["worst-case samples"]
  assert np.isfinite(value) and value >= 0
  assert "not FID" in fcd["note"]
  assert os.path.getsize(os.path.join(run, "tsne.png")) > 1000
  del config


class _BatchRevealingGenerator:
  """A method whose generator reveals what it was asked in one call: pixel
  channel 0 holds each image's own label, channel 1 the mean label of its
  batch (what a BatchNorm in batch mode would normalise with)."""
  has_generator = True
  per_sample = False

  def sample(self, state, key, labels, seeds=None):
    del state, key, seeds
    own = jnp.broadcast_to(labels[:, None, None, None].astype(jnp.float32),
                           (labels.shape[0], 4, 4, 1))
    mean = jnp.full_like(own, jnp.mean(labels.astype(jnp.float32)))
    return jnp.concatenate([own, mean], axis=-1)


def test_generated_images_mix_the_classes_in_every_batch():
  """Class-sorted requests (100 of each class, in order) are drawn in
  batches that mix all classes, as G's training batches do, and come back
  in the order asked: a G with BatchNorm in batch mode would otherwise
  draw classes 0-4 and 5-9 with other statistics than in training."""
  labels = np.repeat(np.arange(10), 100).astype(np.int32)
  images = features.generated_images(_BatchRevealingGenerator(), None,
                                     labels, seed=0, batch_size=500)
  np.testing.assert_array_equal(images[:, 0, 0, 0], labels)
  # Sorted batches would have means 2.0 and 7.0; mixed ones are near 4.5
  # (a batch of 500 of the 1000 labels: standard error ~0.09).
  np.testing.assert_allclose(images[:, 0, 0, 1], 4.5, atol=0.5)
