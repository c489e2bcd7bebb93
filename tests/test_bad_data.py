"""Reduced sets, label noise and test-time distortions: counts, statistics,
and independence of batch size and device layout."""

import numpy as np
import pytest

from wcgen.data import distortions
from wcgen.data import input_pipeline
from wcgen.data import label_noise
from wcgen.data import reduced
from wcgen.errors import ConfigError

rng = np.random.default_rng(0)


def test_stratified_reduction_counts():
  labels = rng.permutation(np.repeat(np.arange(10), [50, 40, 30, 20, 10, 9, 8,
                                                      7, 6, 5]))
  for fraction in (0.2, 0.3, 1.0):
    keep = reduced.reduced_indices(labels, fraction, seed=1, num_classes=10)
    counts = np.bincount(labels[keep], minlength=10)
    expected = [max(1, int(np.rint(n * fraction)))
                for n in (50, 40, 30, 20, 10, 9, 8, 7, 6, 5)]
    assert counts.tolist() == expected
    assert len(np.unique(keep)) == len(keep)
  a = reduced.reduced_indices(labels, 0.3, seed=1, num_classes=10)
  b = reduced.reduced_indices(labels, 0.3, seed=2, num_classes=10)
  assert not np.array_equal(a, b)


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.5])
def test_reduction_fraction_outside_unit_interval(fraction):
  with pytest.raises(ConfigError, match=r"train_fraction must be in \(0, 1\]"):
    reduced.reduced_counts([10] * 10, fraction)


@pytest.mark.parametrize("kind", ["symmetric", "pair"])
def test_label_noise_rate_and_transitions(kind):
  n, k, r = 200_000, 10, 0.3
  clean = rng.integers(0, k, n)
  noisy = label_noise.add_label_noise(clean, kind, r, seed=0, num_classes=k)
  assert abs(np.mean(noisy != clean) - r) < 0.005
  empirical = np.zeros((k, k))
  np.add.at(empirical, (clean, noisy), 1)
  empirical /= empirical.sum(1, keepdims=True)
  if kind == "symmetric":
    expected = np.full((k, k), r / (k - 1)) + np.eye(k) * (1 - r - r / (k - 1))
  else:  # every flip goes to the next class
    expected = (1 - r) * np.eye(k)
    expected[np.arange(k), (np.arange(k) + 1) % k] = r
  np.testing.assert_allclose(empirical, expected, atol=0.01)
  np.testing.assert_allclose(
      label_noise.transition_matrix(kind, r, k), expected, atol=1e-12)


def test_label_noise_rejects_bad_rate_and_kind():
  with pytest.raises(ConfigError, match="label_noise_rate"):
    label_noise.add_label_noise(np.zeros(3, int), "pair", 1.2, 0, 10)
  with pytest.raises(ConfigError, match="unknown data.label_noise"):
    label_noise.add_label_noise(np.zeros(3, int), "flip", 0.2, 0, 10)


@pytest.mark.parametrize("kwargs,message", [
    (dict(kind="gaussian", level=-0.1), "must be >= 0"),
    (dict(kind="gaussian", level=0.1, fraction=0.0), r"fraction must be in"),
    (dict(kind="blur", level=0.1), "unknown test_distortion"),
    (dict(kind="salt_pepper", level=1.5), "rate must be in"),
])
def test_bad_distortion_settings(kwargs, message):
  with pytest.raises(ConfigError, match=message):
    distortions.Distortion(**kwargs)


def _datasets(distortion, n_test=250, size=32, channels=1):
  images = np.full((n_test, size, size, channels), 128, np.uint8)
  labels = np.arange(n_test, dtype=np.int32) % 10
  return input_pipeline.Datasets(
      name="synthetic", num_classes=10, image_shape=(size, size, channels),
      train_images=images, train_labels=labels, test_images=images,
      test_labels=labels, distortion=distortion)


def _distorted_test_set(data, global_batch, hosts=1):
  """Images in test-set order, as `hosts` hosts would each read their rows."""
  per_host = np.array_split(np.arange(global_batch), hosts)
  batches = [list(data.eval_dataset(global_batch, rows, distorted=True)
                  .as_numpy_iterator()) for rows in per_host]
  images = []
  for parts in zip(*batches):  # one global batch, its hosts' rows in order
    image = np.concatenate([p["image"] for p in parts])
    mask = np.concatenate([p["mask"] for p in parts])
    images.append(image[mask])
  return (np.concatenate(images) + 1) / 2  # back to [0, 1]


def test_gaussian_statistics():
  sigma = 0.05  # 10 sigma from the clip bounds: clipping never happens
  data = _datasets(distortions.Distortion("gaussian", sigma, 0.7, seed=3))
  images = _distorted_test_set(data, 50)
  clean = 128 / 255
  residual = images - clean
  distorted = np.abs(residual).reshape(len(images), -1).max(1) > 1e-6
  assert distorted.sum() == round(0.7 * 250)
  np.testing.assert_array_equal(distorted, data.distortion.chosen(250))
  assert abs(residual[distorted].std() - sigma) < 0.002
  assert abs(residual[distorted].mean()) < 0.002


def test_gaussian_is_clipped_to_pixel_range():
  data = _datasets(distortions.Distortion("gaussian", 1.0, 1.0))
  images = _distorted_test_set(data, 50)
  assert images.min() >= 0 and images.max() <= 1
  assert np.mean(images == 0) > 0.2 and np.mean(images == 1) > 0.2


def test_salt_and_pepper_rate():
  r = 0.2
  data = _datasets(distortions.Distortion("salt_pepper", r, 0.7, seed=1),
                   channels=3)
  images = _distorted_test_set(data, 50)
  chosen = data.distortion.chosen(250)
  salt = np.all(images == 1, -1)[chosen]
  pepper = np.all(images == 0, -1)[chosen]
  assert abs(salt.mean() - r / 2) < 0.005
  assert abs(pepper.mean() - r / 2) < 0.005
  # A pixel is salt or pepper in all channels, never in some.
  partial = np.any(images == 1, -1) != np.all(images == 1, -1)
  assert not partial.any()
  clean = ~chosen
  np.testing.assert_allclose(images[clean], 128 / 255, atol=1e-6)


def test_distortion_is_the_same_for_any_batch_and_host_layout():
  data = _datasets(distortions.Distortion("gaussian", 0.3, 0.7, seed=5),
                   n_test=101)
  reference = _distorted_test_set(data, 101)
  for global_batch, hosts in ((16, 1), (16, 2), (24, 4), (7, 1)):
    np.testing.assert_array_equal(
        _distorted_test_set(data, global_batch, hosts), reference)
  other_seed = _datasets(distortions.Distortion("gaussian", 0.3, 0.7, seed=6),
                         n_test=101)
  assert not np.array_equal(_distorted_test_set(other_seed, 16), reference)


def test_clean_eval_is_undistorted_and_padded_rows_masked():
  data = _datasets(distortions.Distortion("gaussian", 0.3, 0.7), n_test=21)
  batches = list(data.eval_dataset(8, np.arange(8)).as_numpy_iterator())
  assert len(batches) == 3
  masks = np.concatenate([b["mask"] for b in batches])
  assert masks.sum() == 21 and not masks[21:].any()
  images = np.concatenate([b["image"] for b in batches])[:21]
  np.testing.assert_allclose(images, 128 / 127.5 - 1, atol=1e-6)
