"""The validation split (issue 15's protocol): balanced, seeded, disjoint
from the training subset and from the test set; and the classifier's
weight decay acting as configured."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wcgen import methods
from wcgen.data import input_pipeline
from wcgen.errors import ConfigError


def _rows(images):
  return {bytes(x.tobytes()) for x in images}


def test_split_is_balanced_disjoint_and_the_long_tail_follows(tiny_config):
  tiny_config.data.validation_per_class = 3
  data = input_pipeline.create_datasets(tiny_config.data)
  assert np.bincount(data.validation_labels).tolist() == [3] * 10
  # Disjoint from the training subset and from the test set (the tiny
  # images are random noise with a class band: no two are equal).
  assert not _rows(data.validation_images) & _rows(data.train_images)
  assert not _rows(data.validation_images) & _rows(data.test_images)
  assert len(data.test_labels) == 40  # the test set is untouched
  # The long tail (IF 2) is drawn from the 24 - 3 = 21 images left per
  # class: 21 ... round(21 / 2) = 10 (paper convention), head included.
  counts = data.train_class_counts
  assert counts[0] == 21 and counts[-1] == 10
  # Seeded: the same subset_seed gives the same split, another seed not.
  again = input_pipeline.create_datasets(tiny_config.data)
  np.testing.assert_array_equal(again.validation_images,
                                data.validation_images)
  tiny_config.data.subset_seed = 1
  other = input_pipeline.create_datasets(tiny_config.data)
  assert _rows(other.validation_images) != _rows(data.validation_images)


def test_validation_indices_take_per_class_from_their_own_stream():
  labels = np.random.default_rng(0).permutation(np.repeat(np.arange(5), 40))
  held = input_pipeline.validation_indices(labels, 7, seed=0, num_classes=5)
  assert np.bincount(labels[held]).tolist() == [7] * 5
  assert len(set(held.tolist())) == 35
  with pytest.raises(ConfigError, match="validation_per_class=40"):
    input_pipeline.validation_indices(labels, 40, seed=0, num_classes=5)


def test_weight_decay_is_an_l2_term_of_the_configured_size(tiny_config):
  """torch.optim.Adam(weight_decay=wd) semantics: with a zero loss
  gradient the first Adam step is -lr * g / |g| for g = wd * w, i.e. each
  weight moves by the learning rate towards zero. optax.adamw, as used
  before, would move it by lr * wd * w (5e-7 of a weight of 1)."""
  tiny_config.optim.classifier.lr = 1e-3
  tiny_config.optim.classifier.weight_decay = 5e-4
  params = {"w": jnp.array([0.5, -2.0, 0.01])}
  zero = jax.tree.map(jnp.zeros_like, params)
  tx = methods.classifier_optimizer(
      tiny_config.optim.classifier, tiny_config.schedule.num_train_steps)
  updates, _ = tx.update(zero, tx.init(params), params)
  g = 5e-4 * np.array([0.5, -2.0, 0.01])
  expected = -1e-3 * g / (np.abs(g) + 1e-8)  # Adam's first step, eps 1e-8
  np.testing.assert_allclose(updates["w"], expected, rtol=1e-5)
  np.testing.assert_allclose(updates["w"][:2], [-1e-3, 1e-3], rtol=1e-4)
  # The Table 5 switch (weight decay 0) leaves such weights where they are.
  tiny_config.optim.classifier.weight_decay = 0.0
  tx = methods.classifier_optimizer(
      tiny_config.optim.classifier, tiny_config.schedule.num_train_steps)
  updates, _ = tx.update(zero, tx.init(params), params)
  np.testing.assert_array_equal(updates["w"], [0.0, 0.0, 0.0])


def test_a_huge_imbalance_factor_is_recorded_as_realised(tiny_config):
  """Issue 14.11: IF=1e9 keeps one image in the rare classes; what is
  trained on is 22 / 1, and that is what the data reports."""
  tiny_config.data.imbalance_factor = 1e9
  data = input_pipeline.create_datasets(tiny_config.data)
  assert data.train_class_counts[0] == 22 and data.train_class_counts[-1] == 1
  assert data.realised_imbalance_factor == 22.0
