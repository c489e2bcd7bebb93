"""Class fidelity of Q: per-class accuracies on generated images."""

import os

import jax
import numpy as np

from wcgen import methods
from wcgen.data import input_pipeline
from wcgen.eval import features
from wcgen.eval import fidelity


def test_per_class_accuracy_by_hand():
  labels = np.array([0, 0, 1, 1, 1, 2])
  predicted = np.array([0, 1, 1, 1, 0, 0])
  np.testing.assert_allclose(fidelity.per_class_accuracy(predicted, labels, 4),
                             [0.5, 2 / 3, 0.0, 0.0])


def test_identity_generator_scores_like_its_seed_images(tiny_config, tmp_path):
  """A per-sample G at initialisation is the identity, so the accuracy on
  Q of C and of the reference equals their accuracy on the seed images
  themselves, computed directly."""
  tiny_config.model.generator.name, tiny_config.method.critic_data = "residual", "balanced"
  data = input_pipeline.create_datasets(tiny_config.data)
  game = methods.create(tiny_config, 10, 1)
  state = game.init(jax.random.PRNGKey(0), data.image_shape)
  tiny_config.method.name = "erm"
  reference = methods.create(tiny_config, 10, 1)
  ref_state = reference.init(jax.random.PRNGKey(1), data.image_shape)
  result = fidelity.class_fidelity(game, state, reference, ref_state, data,
                                   per_class=3, seed=5)
  labels = np.repeat(np.arange(10), 3)
  seeds = features.seed_images(data, labels, np.random.default_rng(5))
  for key, (m, s) in (("c_on_q", (game, state)),
                      ("reference_on_q", (reference, ref_state))):
    direct = fidelity.per_class_accuracy(fidelity.predictions(m, s, seeds),
                                         labels, 10)
    np.testing.assert_array_equal(result[key], direct)
  path = str(tmp_path / "fidelity.png")
  fidelity.fidelity_figure(result, [f"c{i}" for i in range(10)], path)
  import matplotlib.image  # pylint: disable=g-import-not-at-top
  assert matplotlib.image.imread(path).shape[0] > 100


def test_reference_run_judges_the_games_samples_during_training(
    finished_run, tiny_config, tmp_path):
  """config.method.reference_run: the driver loads that run's classifier frozen;
  its logits are the finished run's own (a second path: features.load_run);
  the game logs its accuracy on Q and the filter's mean weight every log
  step; with schedule.fidelity_per_class, every evaluation logs C's and
  the reference's accuracy on Q per class, by name, and draws the curves;
  a reference trained on other data is refused in one line."""
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  import pytest  # pylint: disable=g-import-not-at-top
  from wcgen.core import files  # pylint: disable=g-import-not-at-top
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  from wcgen.train import trainer  # pylint: disable=g-import-not-at-top
  _, reference_dir, _ = finished_run
  config = tiny_config
  config.method.reference_run = reference_dir
  config.method.fake_filter = "probability"
  config.schedule.fidelity_per_class = 3
  images = jnp.asarray(np.random.default_rng(0).uniform(
      -1, 1, (4, 32, 32, 1)), jnp.float32)
  _, method, state = features.load_run(reference_dir)
  np.testing.assert_allclose(trainer.reference_classifier(config)(images),
                             method.classifier_logits(state, images),
                             rtol=1e-5, atol=1e-5)
  workdir = str(tmp_path / "run")
  trainer.train_and_evaluate(config, workdir)
  rows = [r for r in files.read_jsonl(os.path.join(workdir, "metrics.jsonl"))
          if "reference_acc_fake" in r]
  assert [r["step"] for r in rows] == [2, 4]
  for r in rows:
    assert 0 <= r["reference_acc_fake"] <= 1
    assert 0 < r["fake_filter_weight"] <= 1
  from wcgen.data import specs  # pylint: disable=g-import-not-at-top
  names = specs.class_names("fashion_mnist")
  all_rows = files.read_jsonl(os.path.join(workdir, "metrics.jsonl"))
  judged = fidelity.curves(all_rows, names)
  assert sorted(judged) == ["c", "reference"]
  for curve in judged.values():
    np.testing.assert_array_equal(curve["steps"], [2, 4])  # the evaluations
    assert curve["accuracy"].shape == (2, 10)
    np.testing.assert_allclose(curve["accuracy"] * 3,  # 3 images a class
                               np.round(curve["accuracy"] * 3), atol=1e-6)
  assert "fidelity/c/T-shirt_top" in all_rows[-1]  # "/" opens a TB group
  import matplotlib.image  # pylint: disable=g-import-not-at-top
  png = matplotlib.image.imread(
      os.path.join(workdir, "fidelity_over_training.png"))
  assert png.shape[1] > png.shape[0] > 100  # two panels side by side
  # Off by default: the reference run logged none.
  assert not fidelity.curves(
      files.read_jsonl(os.path.join(reference_dir, "metrics.jsonl")), names)
  other = config.copy_and_resolve_references()
  other.data.name = "mnist"
  with pytest.raises(ConfigError, match="trained on fashion_mnist"):
    trainer.reference_classifier(other)


def test_fidelity_probe_judges_fixed_seeds_like_the_direct_path(tiny_config):
  """FidelityProbe against a direct computation on the seed images that
  seed_images(rng(seed)) draws (G is the identity at initialisation): the
  same per-class figures for C and for a reference. The reference is an
  analytic judge whose prediction varies from image to image (the class
  whose brightness centre is nearest the image's mean), so a probe that
  judged other images or put a class in another's column would differ."""
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  tiny_config.model.generator.name, tiny_config.method.critic_data = (
      "residual", "balanced")
  data = input_pipeline.create_datasets(tiny_config.data)
  game = methods.create(tiny_config, 10, 1)
  state = game.init(jax.random.PRNGKey(0), data.image_shape)
  labels = np.repeat(np.arange(10), 4)
  seeds = features.seed_images(data, labels, np.random.default_rng(7))
  centres = jnp.asarray(np.quantile(seeds.mean((1, 2, 3)),
                                    np.linspace(0, 1, 10)))
  brightness = lambda x: -jnp.abs(x.mean((1, 2, 3))[:, None] - centres)
  names = [f"class {k}" for k in range(10)]
  logged = fidelity.FidelityProbe(game, data, per_class=4, seed=7,
                                  class_names=names, reference=brightness)(state)
  by_reference = np.asarray(jnp.argmax(brightness(jnp.asarray(seeds)), -1))
  assert len(set(by_reference.tolist())) > 3  # it looks at the image
  for judge, predicted in (("c", fidelity.predictions(game, state, seeds)),
                           ("reference", by_reference)):
    direct = fidelity.per_class_accuracy(predicted, labels, 10)
    np.testing.assert_allclose(
        [logged[fidelity.metric_name(judge, n)] for n in names], direct)
    np.testing.assert_allclose(logged[f"fidelity/{judge}_mean"], direct.mean())
