"""Every baseline runs end to end through the one driver (`:tiny`)."""

import os

import numpy as np
import pytest

from wcgen import methods
from wcgen.methods.erm import ERM
from wcgen.methods.worst_case import WorstCaseGame
from wcgen.core import files
from wcgen.core import image_grid
from wcgen.train import trainer

NEW_METHODS = ("oversampling", "mixup", "augment", "gan_augment",
               "triple_gan", "seed_control")


@pytest.mark.parametrize("method", NEW_METHODS)
def test_method_trains_and_evaluates(method, tiny_config, tmp_path):
  tiny_config.method.name = method
  results = trainer.train_and_evaluate(tiny_config, str(tmp_path))
  assert results.method == method
  assert 0.0 <= results.test_accuracy <= 1.0
  rows = files.read_jsonl(os.path.join(str(tmp_path), "metrics.jsonl"))
  assert all(np.isfinite(v) for row in rows for v in row.values())
  has_generator = method in ("gan_augment", "triple_gan")
  assert os.path.isdir(os.path.join(str(tmp_path), "samples")) == has_generator


def test_methods_are_configured_as_documented(tiny_config):
  counts = [10] * 10
  built = {}
  for name in methods.METHODS:
    tiny_config.method.name = name
    built[name] = methods.create(tiny_config, 10, 1, counts)
    assert isinstance(built[name], methods.Method), name
  assert isinstance(built["erm"], ERM) and built["erm"].augment_fn is None
  assert built["mixup"].mixup_alpha == tiny_config.method.mixup_alpha
  assert built["augment"].augment_fn is not None
  assert built["oversampling"].mixup_alpha == 0
  for name, sign in (("worst_case", 1.0), ("gan_augment", 0.0),
                     ("triple_gan", -1.0)):
    assert isinstance(built[name], WorstCaseGame)
    assert built[name].generator_vs_classifier == sign
  # Presets: the name stays in the config; the pipeline and the builders
  # see the settings it stands for.
  tiny_config.method.name = "oversampling"
  oversampling = methods.with_preset(tiny_config)
  assert (oversampling.method.name, oversampling.data.sampling) == (
      "erm", "class_balanced")
  assert tiny_config.method.name == "oversampling"  # not changed in place
  assert methods.with_preset(tiny_config).data.augment.enabled is False
  tiny_config.method.name = "augment"
  assert methods.with_preset(tiny_config).data.augment.enabled is True
  tiny_config.method.name = "erm"
  assert methods.with_preset(tiny_config) is tiny_config
  assert tiny_config.data.sampling == "uniform"
  # Augmentation combines with any method.
  tiny_config.method.name, tiny_config.data.augment.enabled = "worst_case", True
  assert methods.create(tiny_config, 10, 1, counts).augment_fn is not None


def test_per_sample_game_runs_end_to_end_with_its_sample_grid(tiny_config,
                                                             tmp_path):
  """generator=residual (Eq. 8's G(x_i, y_i, z)) through the driver: the
  balanced companion stream reaches the step, the grid perturbs training
  images of each class, and the perturbation's size is logged."""
  import matplotlib.image  # pylint: disable=g-import-not-at-top
  tiny_config.model.generator.name = "residual"
  tiny_config.method.critic_data = "balanced"
  tiny_config.method.transport_weight = 1.0
  tiny_config.method.gan_during_warmup = False  # step 1: C alone, G and D frozen
  results = trainer.train_and_evaluate(tiny_config, str(tmp_path))
  assert 0.0 <= results.val_accuracy <= 1.0
  rows = files.read_jsonl(os.path.join(str(tmp_path), "metrics.jsonl"))
  rms = [r["perturbation_rms"] for r in rows if "perturbation_rms" in r]
  # Step 2 is G's first update (frozen at step 1): it still draws the
  # seeds themselves then (rms exactly 0); by step 4 it perturbs them.
  assert len(rms) == 2 and rms[0] == 0.0 < rms[1] < 1
  grid = matplotlib.image.imread(
      os.path.join(str(tmp_path), "samples", "step_0000004.png"))
  assert grid.shape[0] == image_grid.PNG_SCALE * (10 * 33 + 1)


def test_a_method_built_without_class_counts_evaluates_but_cannot_train(
    tiny_config):
  """Loading a finished run needs no fake class counts; a re-balancing
  loss refuses to be trained without the real ones."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  tiny_config.method.name, tiny_config.loss.name = "erm", "logit_adjusted"
  method = methods.create(tiny_config, 10, 1)
  state = method.init(jax.random.PRNGKey(0), (32, 32, 1))
  images = jnp.zeros((3, 32, 32, 1))
  assert method.classifier_logits(state, images).shape == (3, 10)
  assert not method.has_generator
  with pytest.raises(ConfigError, match="needs the training set's class"):
    method.train_step(state, {"image": images, "label": jnp.arange(3)})


def test_protocol_says_which_methods_have_a_generator(tiny_config):
  """Method.has_generator instead of a None sentinel: ERM's `sample`
  refuses, the game's draws images; both give C's penultimate features
  (the t-SNE pictures and the FCD read them), the same as the classifier
  module computes them directly."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  counts = [22] * 10
  images = jnp.zeros((4, 32, 32, 1))
  for name, has_generator in (("erm", False), ("worst_case", True)):
    tiny_config.method.name = name
    method = methods.create(tiny_config, 10, 1, counts)
    state = method.init(jax.random.PRNGKey(0), (32, 32, 1))
    assert method.has_generator is has_generator
    features = method.classifier_features(state, images)
    _, direct = method.classifier.apply(state.classifier.variables, images,
                                        train=False, return_features=True)
    np.testing.assert_array_equal(features, direct)
    labels = jnp.arange(4)
    if has_generator:
      assert method.sample(state, jax.random.PRNGKey(1), labels).shape == (
          4, 32, 32, 1)
    else:
      with pytest.raises(ValueError, match="no generator"):
        method.sample(state, jax.random.PRNGKey(1), labels)


def test_generator_rate_decays_with_the_classifiers_on_the_global_step(
    tiny_config):
  """optim.generator.final_lr_fraction < 1: Adam's first update of a
  constant-sign gradient is -lr, so G's k-th update shows the rate it
  used; it must be C's cosine rate (by the formula) at global step
  warm-up + k when G is frozen in the warm-up, and the constant rate by
  default."""
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import math  # pylint: disable=g-import-not-at-top
  config = tiny_config
  config.schedule.num_train_steps, config.method.warmup_steps = 100, 40
  config.method.gan_during_warmup = False
  config.optim.generator.final_lr_fraction = 0.1
  rate = lambda t: 2e-4 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t / 100)))

  def first_step_size(tx, updates_before):
    params = {"w": jnp.zeros(3)}
    state = tx.init(params)
    for _ in range(updates_before):  # the same gradient: Adam stays at -lr
      step, state = tx.update({"w": jnp.ones(3)}, state, params)
    step, state = tx.update({"w": jnp.ones(3)}, state, params)
    return -float(step["w"][0])

  game = methods.create(config, 10, 1, [10] * 10)
  for k in (0, 30):
    np.testing.assert_allclose(first_step_size(game.generator_tx, k),
                               rate(40 + k), rtol=1e-4)
  config.optim.generator.final_lr_fraction = 1.0
  game = methods.create(config, 10, 1, [10] * 10)
  np.testing.assert_allclose(first_step_size(game.generator_tx, 30), 2e-4,
                             rtol=1e-4)
