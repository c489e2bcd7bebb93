"""mixup and oversampling against independent references."""

import jax
import jax.numpy as jnp
import numpy as np

from wcgen.data import input_pipeline
from wcgen.methods import mixup
from wcgen import objectives


def test_mixup_mixes_images_and_loss_equals_soft_label_ce():
  rng = np.random.default_rng(0)
  images = jnp.asarray(rng.normal(size=(8, 4, 4, 1)), jnp.float32)
  labels = jnp.asarray(rng.integers(0, 5, 8), jnp.int32)
  mixed, partner, lam = mixup.mix_batch(jax.random.PRNGKey(0), images,
                                        labels, alpha=1.0)
  lam = float(lam)
  assert 0 < lam < 1
  # Recover the permutation from the partner labels' images.
  x, m = np.asarray(images), np.asarray(mixed)
  for i in range(8):
    partner_image = (m[i] - lam * x[i]) / (1 - lam)
    j = np.argmin(np.abs(x - partner_image).reshape(8, -1).max(1))
    np.testing.assert_allclose(partner_image, x[j], atol=1e-4)
    assert int(partner[i]) == int(labels[j])
  logits = jnp.asarray(rng.normal(size=(8, 5)), jnp.float32)
  loss = mixup.mixed_loss(objectives.step_cross_entropy, logits, labels,
                          partner, lam, jnp.zeros((), jnp.int32))
  # NumPy: CE with the soft target lam * onehot(y) + (1 - lam) * onehot(y_j).
  target = (lam * np.eye(5)[np.asarray(labels)] +
            (1 - lam) * np.eye(5)[np.asarray(partner)])
  log_p = np.asarray(jax.nn.log_softmax(logits))
  np.testing.assert_allclose(float(loss), -(target * log_p).sum(1).mean(),
                             rtol=1e-5)


def _long_tailed(counts=(200, 60, 20, 5)):
  labels = np.repeat(np.arange(len(counts)), counts).astype(np.int32)
  labels = np.random.default_rng(0).permutation(labels)
  images = np.zeros((len(labels), 4, 4, 1), np.uint8)
  return input_pipeline.Datasets("synthetic", len(counts), (4, 4, 1), images,
                                 labels, images[:4], labels[:4])


def _label_stream(data, sampling, start_step, steps, batch=32):
  ds = data.train_dataset(batch, seed=1, start_step=start_step,
                          rows=np.arange(batch), sampling=sampling)
  return np.stack([b["label"] for b in ds.take(steps).as_numpy_iterator()])


def test_class_balanced_stream_is_balanced_and_resumes_exactly():
  data = _long_tailed()
  labels = _label_stream(data, "class_balanced", 0, 200)
  freq = np.bincount(labels.ravel(), minlength=4) / labels.size
  np.testing.assert_allclose(freq, 0.25, atol=0.02)
  uniform = _label_stream(data, "uniform", 0, 200)
  assert np.bincount(uniform.ravel())[3] / uniform.size < 0.03
  # Resuming at step 120 gives the rows of the uninterrupted stream.
  np.testing.assert_array_equal(
      _label_stream(data, "class_balanced", 120, 80), labels[120:])


def test_class_balanced_stream_draws_every_rare_image():
  data = _long_tailed()
  rare = np.flatnonzero(data.train_labels == 3)
  idx_ds = data._class_balanced_index_batches(32, 1, 0)  # pylint: disable=protected-access
  drawn = np.concatenate(list(idx_ds.take(100).as_numpy_iterator()))
  assert set(rare) <= set(drawn)
  assert set(np.unique(data.train_labels[drawn])) == {0, 1, 2, 3}
