"""Standard augmentation: each transform checked against NumPy."""

import jax
import jax.numpy as jnp
import numpy as np

from wcgen import augment

rng = np.random.default_rng(0)


def test_crop_is_an_integer_shift_with_black_fill():
  image = rng.uniform(-1, 1, (8, 8, 3)).astype(np.float32)
  out = np.asarray(augment.pad_and_crop(jnp.asarray(image), 2, 0, 3))
  padded = np.pad(image, ((2, 2), (2, 2), (0, 0)), constant_values=-1.0)
  np.testing.assert_array_equal(out, padded[0:8, 3:11])


def test_rotation_by_quarter_turn_equals_rot90():
  image = rng.uniform(-1, 1, (9, 9, 2)).astype(np.float32)
  out = np.asarray(augment.rotate(jnp.asarray(image), np.pi / 2))
  # Counter-clockwise on screen is np.rot90's direction.
  np.testing.assert_allclose(out, np.rot90(image, 1, axes=(0, 1)), atol=1e-5)
  same = np.asarray(augment.rotate(jnp.asarray(image), 0.0))
  np.testing.assert_allclose(same, image, atol=1e-6)


def test_small_rotation_keeps_centre_and_fills_corners():
  image = np.ones((16, 16, 1), np.float32)
  out = np.asarray(augment.rotate(jnp.asarray(image), np.pi / 4))
  assert out[8, 8, 0] == 1.0
  assert out[0, 0, 0] == -1.0  # uncovered corner


def test_batch_augmentation_is_keyed_and_per_image():
  images = jnp.asarray(rng.uniform(-1, 1, (16, 32, 32, 1)), jnp.float32)
  aug = augment.Augmentation(crop_pad=4, flip=True, max_rotation_deg=15.0)
  a = np.asarray(aug(jax.random.PRNGKey(0), images))
  b = np.asarray(aug(jax.random.PRNGKey(0), images))
  c = np.asarray(aug(jax.random.PRNGKey(1), images))
  np.testing.assert_array_equal(a, b)
  assert not np.array_equal(a, c)
  assert a.shape == images.shape and a.min() >= -1 and a.max() <= 1


def test_flip_only_gives_identity_or_mirror():
  images = jnp.asarray(rng.uniform(-1, 1, (32, 8, 8, 1)), jnp.float32)
  aug = augment.Augmentation(crop_pad=0, flip=True, max_rotation_deg=0.0)
  out = np.asarray(aug(jax.random.PRNGKey(3), images))
  x = np.asarray(images)
  same = np.all(out == x, axis=(1, 2, 3))
  mirrored = np.all(out == x[:, :, ::-1], axis=(1, 2, 3))
  assert np.all(same | mirrored)
  assert 4 < mirrored.sum() < 28  # about half


def test_diff_augment_translates_and_cuts_out_and_passes_gradients():
  """DiffAugment on a constant image: cutout sets at most side^2 pixels
  to FILL and leaves the rest; translation fills a border whose size is
  given by the shift; both let gradients through to the kept pixels."""
  FILL, DiffAugment = augment.FILL, augment.DiffAugment  # pylint: disable=invalid-name
  image = jnp.full((8, 32, 32, 1), 0.5)
  cut = DiffAugment(translation=0.0, cutout=0.5)(jax.random.PRNGKey(0), image)
  filled = np.asarray(cut == FILL).reshape(8, -1).sum(1)
  assert np.all(filled > 0) and np.all(filled <= 16 * 16)
  assert np.all(np.isin(np.asarray(cut), [FILL, 0.5]))
  moved = DiffAugment(translation=0.125, cutout=0.0)(jax.random.PRNGKey(1),
                                                    image)
  for one in np.asarray(moved)[..., 0]:
    rows = np.flatnonzero((one == FILL).all(1))
    cols = np.flatnonzero((one == FILL).all(0))
    # The kept block is a (32 - |dy|) x (32 - |dx|) rectangle of 0.5.
    assert (one == 0.5).sum() == (32 - len(rows)) * (32 - len(cols))
    assert len(rows) <= 4 and len(cols) <= 4
  grad = jax.grad(lambda x: jnp.sum(DiffAugment()(jax.random.PRNGKey(2), x)))(
      image)
  assert set(np.unique(np.asarray(grad))) <= {0.0, 1.0}
  assert float(jnp.sum(grad)) > 0
