"""Eq. 8's per-sample generator G(x_i, y_i, z) in the game, and its
controls: identity at the start, bounded, attacks C, and pays the
transport cost; the control's random perturbation has the asked size."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from test_worst_case import _game as worst_case_game
from wcgen import objectives
from wcgen.core import state as state_lib
from wcgen.eval import batch_norm
from wcgen.methods.erm import ERM, adversarial_perturbation
from wcgen.methods.erm import random_perturbation
from wcgen.models import classifiers, generators

K = 4


def _game(**kwargs):
  """test_worst_case's small game, with the per-sample generator."""
  return worst_case_game(**{
      "generator": generators.ResidualPerturber(K, 1, width=4, bound=0.5),
      "generator_tx": optax.sgd(1e-2), "critic_tx": optax.sgd(1e-2),
      **kwargs})


def _batch(n=8, seed=0):
  rng = np.random.default_rng(seed)
  image = lambda: jnp.asarray(rng.uniform(-1, 1, (n, 32, 32, 1)), jnp.float32)
  labels = jnp.asarray(np.arange(n) % K, jnp.int32)
  return {"image": image(), "label": labels[::-1],
          "balanced_image": image(), "balanced_label": labels}


def test_residual_generator_is_the_identity_at_init_and_bounded():
  g = generators.ResidualPerturber(K, 1, width=4, bound=0.25)
  x = _batch()["balanced_image"]
  labels, z = jnp.arange(8) % K, jnp.ones((8, 8))
  variables = g.init(jax.random.PRNGKey(0), z, labels, seeds=x)
  np.testing.assert_array_equal(g.apply(variables, z, labels, seeds=x), x)
  # Any weights: every pixel moves by at most `bound` (and stays in range).
  noisy = jax.tree.map(lambda a: a + 3.0, variables)
  out = g.apply(noisy, z, labels, seeds=x)
  assert float(jnp.max(jnp.abs(out - x))) <= 0.25 + 1e-6
  assert float(jnp.max(jnp.abs(out - x))) > 0.1  # the bound is reached
  assert float(jnp.max(jnp.abs(out))) <= 1.0
  # Label and noise both change the perturbation (weights off zero but
  # short of saturating tanh).
  leaves, tree = jax.tree.flatten(variables)
  keys = jax.random.split(jax.random.PRNGKey(1), len(leaves))
  moved = jax.tree.unflatten(tree, [
      a + 0.1 * jax.random.normal(k, a.shape) for a, k in zip(leaves, keys)])
  out = g.apply(moved, z, labels, seeds=x)
  for other in (g.apply(moved, z, (labels + 1) % K, seeds=x),
                g.apply(moved, -z, labels, seeds=x)):
    assert float(jnp.max(jnp.abs(other - out))) > 1e-4


def _jittered(variables, scale):
  """G's weights plus seeded Gaussian noise of `scale`: a G that moves its
  samples by an amount the scale sets."""
  leaves, tree = jax.tree.flatten(variables)
  keys = jax.random.split(jax.random.PRNGKey(2), len(leaves))
  return jax.tree.unflatten(tree, [
      a + scale * jax.random.normal(k, a.shape) for a, k in zip(leaves, keys)])


def _changes(generator, variables, z, labels, x):
  """Each sample's change from its seed, as a numpy array."""
  return np.asarray(generator.apply(variables, z, labels, seeds=x) - x)


def _rms(d):
  return np.sqrt(np.mean(d.reshape(len(d), -1) ** 2, axis=1))

def test_residual_rms_cap_projects_each_sample_onto_its_ball():
  """max_rms: each sample's change is the uncapped one scaled down to RMS
  max_rms when it was larger (same direction), untouched when it was
  smaller; images stay in range; G is still the identity at init."""
  x = _batch()["balanced_image"]
  labels, z = jnp.arange(8) % K, jnp.ones((8, 8))
  free = generators.ResidualPerturber(K, 1, width=4, bound=0.5)
  capped = generators.ResidualPerturber(K, 1, width=4, bound=0.5,
                                        max_rms=0.1)
  variables = free.init(jax.random.PRNGKey(0), z, labels, seeds=x)
  np.testing.assert_array_equal(
      capped.apply(variables, z, labels, seeds=x), x)
  moved = _jittered(variables, 0.3)
  d_free = _changes(free, moved, z, labels, x)
  d_cap = _changes(capped, moved, z, labels, x)
  above = _rms(d_free) > 0.1
  assert above.any()  # the weights move some samples past the ball
  np.testing.assert_allclose(_rms(d_cap)[above], 0.1, rtol=1e-4)
  np.testing.assert_allclose(d_cap[~above], d_free[~above], atol=1e-6)
  for i in np.flatnonzero(above):  # the same direction, shorter
    ratio = d_cap[i].ravel() @ d_free[i].ravel() / (
        np.linalg.norm(d_cap[i]) * np.linalg.norm(d_free[i]))
    assert ratio > 1 - 1e-5
  assert np.abs(x + d_cap).max() <= 1.0 + 1e-6
  # The gradient through the cap at G's start (a zero residual) is finite.
  grad = jax.grad(lambda v: jnp.sum(capped.apply(v, z, labels, seeds=x)))(
      variables)
  assert all(np.isfinite(g).all() for g in jax.tree.leaves(grad))


def test_fixed_residual_rms_moves_every_sample_by_that_rms_in_gs_direction():
  """rms_mode "fixed": every sample's change is the free one scaled, up or
  down, to RMS max_rms (same direction); a zero residual (G's start) stays
  zero with a finite gradient; bound and range still hold."""
  rng = np.random.default_rng(3)
  x = jnp.asarray(rng.uniform(-0.5, 0.5, (8, 32, 32, 1)), jnp.float32)
  labels, z = jnp.arange(8) % K, jnp.ones((8, 8))
  free = generators.ResidualPerturber(K, 1, width=4, bound=0.5)
  fixed = generators.ResidualPerturber(K, 1, width=4, bound=0.5,
                                       max_rms=0.045, rms_mode="fixed")
  variables = free.init(jax.random.PRNGKey(0), z, labels, seeds=x)
  np.testing.assert_array_equal(fixed.apply(variables, z, labels, seeds=x), x)
  grad = jax.grad(lambda v: jnp.sum(fixed.apply(v, z, labels, seeds=x)))(
      variables)
  assert all(np.isfinite(g).all() for g in jax.tree.leaves(grad))
  moved = _jittered(variables, 0.05)
  d_free = _changes(free, moved, z, labels, x)
  d_fixed = _changes(fixed, moved, z, labels, x)
  # Both kinds of sample: some scaled up to the set size, some down.
  assert (_rms(d_free) < 0.045).any() and (_rms(d_free) > 0.045).any()
  np.testing.assert_allclose(_rms(d_fixed), 0.045, rtol=1e-4)
  for i in range(len(x)):
    cosine = d_fixed[i].ravel() @ d_free[i].ravel() / (
        np.linalg.norm(d_fixed[i]) * np.linalg.norm(d_free[i]))
    assert cosine > 1 - 1e-5
  # A set size the bound cannot hold: pixels stop at it, images in range.
  big = generators.ResidualPerturber(K, 1, width=4, bound=0.5, max_rms=0.6,
                                     rms_mode="fixed")
  out = np.asarray(big.apply(moved, z, labels, seeds=x))
  assert np.abs(out - x).max() <= 0.5 + 1e-6
  assert np.abs(out - x).max() > 0.49 and np.abs(out).max() <= 1.0


def test_max_residual_rms_is_checked_against_the_generator():
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  from wcgen import models  # pylint: disable=g-import-not-at-top
  from wcgen.errors import ConfigError  # pylint: disable=g-import-not-at-top
  config = fmnist_wgan.get_config()
  config.model.generator.max_residual_rms = 0.1
  with pytest.raises(ConfigError, match="only with the per-sample"):
    models.validate(config.model)  # the default G is "dcgan"
  config.model.generator.name = "residual"
  models.validate(config.model)
  config.model.generator.max_residual_rms = -0.1
  with pytest.raises(ConfigError, match="must be >= 0"):
    models.validate(config.model)
  g = models.create_generator("residual", K, 1, 4, 0.5, 0.2)
  assert g.max_rms == 0.2 and g.rms_mode == "cap"
  g = models.create_generator("residual", K, 1, 4, 0.5, 0.2, "fixed")
  assert g.rms_mode == "fixed"
  config.model.generator.residual_rms_mode = "fixed"
  config.model.generator.max_residual_rms = 0.0
  with pytest.raises(ConfigError, match="set that > 0"):
    models.validate(config.model)
  config.model.generator.max_residual_rms = 0.1
  models.validate(config.model)
  config.model.generator.residual_rms_mode = "exact"
  with pytest.raises(ConfigError, match="residual_rms_mode"):
    models.validate(config.model)


def test_per_sample_game_perturbs_the_balanced_seeds_and_attacks_c():
  # A zero critic: G's only signals are C's loss and the transport cost.
  game = _game()
  assert game.per_sample and game.needs_balanced_batch
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  state = state.replace(critic=state.critic.replace(
      params=jax.tree.map(jnp.zeros_like, state.critic.params)))
  batch = _batch()
  seeds, labels = batch["balanced_image"], batch["balanced_label"]
  key = jax.random.PRNGKey(1)

  def ce_after(state):
    fake = game.sample(state, key, labels, seeds=seeds)
    return float(objectives.cross_entropy(
        game.classifier_logits(state, fake), labels)), fake

  ce0, fake0 = ce_after(state)
  np.testing.assert_array_equal(fake0, seeds)  # identity at the start
  for _ in range(3):
    grads, _ = jax.grad(game._generator_loss, has_aux=True)(  # pylint: disable=protected-access
        state.generator.params, state, key, labels, seeds)
    state = state.replace(generator=state.generator.apply_gradients(
        grads, game.generator_tx))
  ce1, fake1 = ce_after(state)
  assert ce1 > ce0
  assert float(jnp.mean(jnp.square(fake1 - seeds))) > 0


def test_transport_cost_pulls_the_perturbation_back():
  # G's loss with only the transport term (C's last layer zeroed: no CE
  # gradient; zero critic): a step from a perturbing G must shrink
  # ||G(x) - x||^2, and the cost is the per-pixel mean square.
  game = _game(transport_weight=1.0)
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  state = state.replace(critic=state.critic.replace(
      params=jax.tree.map(jnp.zeros_like, state.critic.params)))
  clf = state.classifier
  params = dict(clf.params)
  params["Dense_0"] = jax.tree.map(jnp.zeros_like, params["Dense_0"])
  state = state.replace(classifier=clf.replace(params=params))
  gen = state.generator
  state = state.replace(generator=gen.replace(params=jax.tree.map(
      lambda a: a + 0.05, gen.params)))
  batch = _batch()
  seeds, labels = batch["balanced_image"], batch["balanced_label"]
  key = jax.random.PRNGKey(2)
  cost = lambda s: float(objectives.transport_cost(
      game.sample(s, key, labels, seeds=seeds), seeds))
  (loss, (aux, fake, _)) = game._generator_loss(  # pylint: disable=protected-access
      state.generator.params, state, key, labels, seeds)
  np.testing.assert_allclose(float(aux["transport_cost"]),
                             np.mean((np.asarray(fake) - np.asarray(seeds))**2),
                             rtol=1e-6)
  grads, _ = jax.grad(game._generator_loss, has_aux=True)(  # pylint: disable=protected-access
      state.generator.params, state, key, labels, seeds)
  after = state.replace(generator=state.generator.apply_gradients(
      grads, game.generator_tx))
  assert cost(after) < cost(state)
  del loss


def test_per_sample_step_is_traced_once_and_logs_the_perturbation():
  game = _game(critic_data="balanced", n_critic=2)
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  step = jax.jit(chex.assert_max_traces(game.train_step, n=1))
  for i in range(3):
    state, metrics = step(state, _batch(seed=i))
  assert int(state.step) == 3
  assert {"perturbation_rms", "transport_cost", "c_acc_fake_eval"} <= set(
      metrics)
  assert all(np.isfinite(float(v)) for v in metrics.values())
  assert float(metrics["perturbation_rms"]) > 0


def test_balanced_critic_data_reads_the_companion_batch():
  # The critic's real rows come from batch["balanced_image"]: changing the
  # training batch's images leaves the critic's update unchanged.
  game = _game(generator=generators.DCGANGenerator(K, 1, width=4),
               critic_data="balanced")
  assert not game.per_sample and game.needs_balanced_batch
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  a = _batch()
  b = dict(a, image=-a["image"])
  step = jax.jit(game.train_step)  # one compilation for both batches
  sa, _ = step(state, a)
  sb, _ = step(game.init(jax.random.PRNGKey(0), (32, 32, 1)), b)
  jax.tree.map(np.testing.assert_array_equal, sa.critic.params,
               sb.critic.params)


def test_random_perturbation_has_the_asked_rms_per_image():
  x = jnp.zeros((6, 32, 32, 1))
  out = random_perturbation(jax.random.PRNGKey(0), x, 0.2)
  rms = np.sqrt(np.mean(np.square(np.asarray(out - x)), axis=(1, 2, 3)))
  np.testing.assert_allclose(rms, 0.2, rtol=1e-5)


def test_adversarial_perturbation_is_the_sign_of_the_ce_gradient_by_hand():
  """FGSM against a linear classifier, whose CE gradient w.r.t. x is
  (softmax(xW) - onehot(y)) W^T: every pixel moves by `size` in that
  sign, then [-1, 1] clips; and the step raises C's loss. PGD: the same
  steps repeated and projected, as a numpy loop does them."""
  rng = np.random.default_rng(0)
  x = rng.uniform(-0.5, 0.5, (6, 4, 4, 1)).astype(np.float32)
  w = rng.normal(size=(16, K)).astype(np.float32)
  y = np.arange(6) % K
  logits_fn = lambda images: images.reshape(len(images), -1) @ w
  out = np.asarray(adversarial_perturbation(logits_fn, jnp.asarray(x),
                                            jnp.asarray(y), 0.2))
  logits = x.reshape(6, -1) @ w
  p = np.exp(logits - logits.max(1, keepdims=True))
  p /= p.sum(1, keepdims=True)
  grad = (p - np.eye(K)[y]) @ w.T
  np.testing.assert_allclose(out.reshape(6, -1), x.reshape(6, -1) +
                             0.2 * np.sign(grad), atol=1e-6)
  ce = lambda images: np.asarray(objectives.cross_entropy(
      logits_fn(jnp.asarray(images)), jnp.asarray(y)))
  assert ce(out) > ce(x)
  clipped = adversarial_perturbation(logits_fn, jnp.ones((6, 4, 4, 1)),
                                     jnp.asarray(y), 0.2)
  assert float(jnp.max(clipped)) <= 1.0

  # steps > 1: PGD, against the same loop written in numpy.
  def ce_grad(images):
    z = images.reshape(6, -1) @ w
    q = np.exp(z - z.max(1, keepdims=True))
    q /= q.sum(1, keepdims=True)
    return ((q - np.eye(K)[y]) @ w.T).reshape(images.shape)
  by_hand = x.copy()
  for _ in range(5):
    by_hand = by_hand + 2.5 * 0.2 / 5 * np.sign(ce_grad(by_hand))
    by_hand = np.clip(np.clip(by_hand, x - 0.2, x + 0.2), -1, 1)
  pgd = np.asarray(adversarial_perturbation(
      logits_fn, jnp.asarray(x), jnp.asarray(y), 0.2, steps=5))
  np.testing.assert_allclose(pgd, by_hand, atol=1e-5)
  assert np.abs(pgd - x).max() <= 0.2 + 1e-6
  assert ce(pgd) >= ce(out) - 1e-6  # at least the one-step attack's loss


def test_adversarial_control_attacks_c_and_random_does_not():
  """method.control_perturbation: at the same size, C classifies the
  adversarial companion batch worse than the randomly perturbed one."""
  clf = classifiers.TripleGANCNN(K, dropout_rate=0.0)
  common = dict(classifier=clf, classifier_tx=optax.adam(1e-3),
                num_classes=K, companion_weight=1.0, companion_noise_rms=0.3)
  random_control = ERM(**common)
  adversarial = ERM(**common, companion_perturbation="adversarial")
  state = random_control.init(jax.random.PRNGKey(0), (32, 32, 1))
  batch = _batch(16)
  # C fitted to the companion batch first, so that its loss can rise.
  fit_step = jax.jit(ERM(classifier=clf, classifier_tx=optax.adam(1e-3),
                          num_classes=K).train_step)
  real = {"image": batch["balanced_image"], "label": batch["balanced_label"]}
  for _ in range(30):
    state, _ = fit_step(state, real)
  _, m_random = jax.jit(random_control.train_step)(state, batch)
  _, m_adv = jax.jit(adversarial.train_step)(state, batch)
  assert float(m_random["c_acc_companion"]) >= 0.75
  assert float(m_adv["c_acc_companion"]) < float(
      m_random["c_acc_companion"]) - 0.25
  # Before its start step the attack is skipped and C's update is ERM's.
  late = ERM(**common, companion_perturbation="adversarial",
             companion_attack_steps=3, companion_start_step=10**6)
  a, m_late = jax.jit(late.train_step)(state, batch)
  b, _ = fit_step(state, {"image": batch["image"],  # plain ERM
                          "label": batch["label"]})
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, atol=1e-7),
               a.classifier.params, b.classifier.params)
  assert float(m_late["c_acc_companion"]) >= 0.75  # the unattacked seeds


def test_seed_control_trains_on_the_companion_batch_from_its_start_step():
  clf = classifiers.TripleGANCNN(K, dropout_rate=0.0)
  common = dict(classifier=clf, classifier_tx=optax.sgd(1e-2), num_classes=K)
  base = ERM(**common)
  control = ERM(**common, companion_weight=1.0, companion_start_step=1)
  assert control.needs_balanced_batch and not base.needs_balanced_batch
  batch = _batch()
  s0 = base.init(jax.random.PRNGKey(0), (32, 32, 1))
  # Step 0 is before the start: the companion batch adds nothing.
  base_step, control_step = jax.jit(base.train_step), jax.jit(
      control.train_step)
  a, _ = base_step(s0, batch)
  b, metrics = control_step(s0, batch)
  jax.tree.map(lambda x, y: np.testing.assert_allclose(x, y, atol=1e-7),
               a.classifier.params, b.classifier.params)
  assert "c_acc_companion" in metrics
  # From step 1 on it does.
  a, _ = base_step(a, batch)
  b, _ = control_step(b, batch)
  diff = jax.tree.map(lambda x, y: float(jnp.max(jnp.abs(x - y))),
                      a.classifier.params, b.classifier.params)
  assert max(jax.tree.leaves(diff)) > 1e-4


def test_classifier_only_warmup_step_is_the_joint_steps_update_of_c():
  """gan_during_warmup=False: during the warm-up the driver runs
  classifier_only_step, which must update C exactly as the joint step does
  then (same keys, fake term off), and leave G and D untouched."""
  game = _game(warmup_steps=5)
  frozen = _game(warmup_steps=5, gan_during_warmup=False)
  assert game.frozen_warmup_steps == 0 and frozen.frozen_warmup_steps == 5
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  batch = _batch()
  joint, _ = jax.jit(game.train_step)(state, batch)
  only, metrics = jax.jit(frozen.classifier_only_step)(state, batch)
  assert set(metrics) == {"c_loss", "c_acc_real"}
  jax.tree.map(np.testing.assert_array_equal, joint.classifier,
               only.classifier)
  jax.tree.map(np.testing.assert_array_equal, state.generator, only.generator)
  jax.tree.map(np.testing.assert_array_equal, state.critic, only.critic)
  assert int(only.step) == 1


def test_critic_augmentation_changes_the_critic_update_and_compiles_once():
  from wcgen.augment import DiffAugment  # pylint: disable=g-import-not-at-top
  plain = _game(critic_data="balanced")
  augmented = _game(critic_data="balanced", critic_augment_fn=DiffAugment())
  init = lambda: plain.init(jax.random.PRNGKey(0), (32, 32, 1))
  a, _ = jax.jit(plain.train_step)(init(), _batch())
  step = jax.jit(chex.assert_max_traces(augmented.train_step, n=1))
  b, _ = step(init(), _batch())
  diff = jax.tree.map(lambda x, y: float(jnp.max(jnp.abs(x - y))),
                      a.critic.params, b.critic.params)
  assert max(jax.tree.leaves(diff)) > 0
  b, metrics = step(b, _batch(seed=1))
  assert all(np.isfinite(float(v)) for v in metrics.values())


def test_fidelity_weights_against_softmax_by_hand():
  """objectives.fidelity_weights and weighted_cross_entropy on logits whose
  softmax is known: p(class 0) = 0.7 and 0.2 for the two rows."""
  logits = jnp.log(jnp.array([[0.7, 0.3], [0.2, 0.8]]))
  labels = jnp.array([0, 0])
  np.testing.assert_allclose(objectives.fidelity_weights(
      logits, labels, "probability"), [0.7, 0.2], rtol=1e-6)
  np.testing.assert_array_equal(objectives.fidelity_weights(
      logits, labels, "threshold", 0.5), [1.0, 0.0])
  np.testing.assert_array_equal(objectives.fidelity_weights(
      logits, labels, "none"), [1.0, 1.0])
  # Weighted CE: (0.7 * -log 0.7 + 0.2 * -log 0.2) / 2.
  expected = (0.7 * -np.log(0.7) + 0.2 * -np.log(0.2)) / 2
  np.testing.assert_allclose(objectives.weighted_cross_entropy(
      logits, labels, jnp.array([0.7, 0.2])), expected, rtol=1e-6)


def test_fake_filter_keeps_drops_and_logs_reference_fidelity():
  """Lever 5: a reference that rejects every generated image leaves C the
  gradient of a game without generated images (fake_weight 0); one that
  accepts all leaves C the unfiltered gradient; C's step logs the
  reference's accuracy on Q and the mean weight."""
  batch = _batch()
  fake, labels = batch["balanced_image"], batch["balanced_label"]

  def reference(score):  # logits: the intended class gets `score`
    return lambda images: score * jax.nn.one_hot(labels, K)

  state = _game().init(jax.random.PRNGKey(0), (32, 32, 1))

  def classifier_grads(**kwargs):
    game = _game(warmup_steps=0, **kwargs)
    grads, (metrics, _) = jax.grad(game._classifier_loss, has_aux=True)(  # pylint: disable=protected-access
        state.classifier.params, state, fake, labels, batch["image"],
        batch["label"], jax.random.PRNGKey(3))
    return grads, metrics

  plain, _ = classifier_grads()
  no_fakes, _ = classifier_grads(fake_weight=0.0)
  rejected, metrics = classifier_grads(
      reference_logits_fn=reference(-30.0), fake_filter="threshold")
  chex.assert_trees_all_close(rejected, no_fakes, atol=1e-7)
  assert float(metrics["fake_filter_weight"]) == 0.0
  assert float(metrics["reference_acc_fake"]) == 0.0
  accepted, metrics = classifier_grads(
      reference_logits_fn=reference(30.0), fake_filter="probability")
  chex.assert_trees_all_close(accepted, plain, atol=1e-6)
  assert float(metrics["reference_acc_fake"]) == 1.0
  assert float(metrics["fake_filter_weight"]) > 0.999
  # Logging only: the reference judges, C's gradient is the plain one.
  logged, metrics = classifier_grads(reference_logits_fn=reference(-30.0))
  chex.assert_trees_all_close(logged, plain, atol=1e-7)
  assert float(metrics["reference_acc_fake"]) == 0.0
  try:
    _game(fake_filter="threshold")
  except ValueError as e:
    assert "needs a reference classifier" in str(e)
  else:
    raise AssertionError("a filter without a reference was accepted")


def test_generator_fidelity_term_is_the_references_ce_and_keeps_the_class():
  """G's loss with generator_fidelity_weight w is Eq. 10's plus w times the
  frozen reference's cross-entropy on G's samples (checked against a
  hand-computed softmax CE), and with only that term (zero critic, C's
  last layer zeroed) a step of G raises the reference's probability of
  the intended class. It refuses to run without a reference."""
  batch = _batch()
  seeds, labels = batch["balanced_image"], batch["balanced_label"]
  # A differentiable reference: class k's logit is the mean of row band k.
  bands = np.zeros((32, K), np.float32)
  for k in range(K):
    bands[8 * k:8 * k + 8, k] = 1 / 8
  reference = lambda images: 4.0 * jnp.einsum(
      "nhwc,hk->nk", images, jnp.asarray(bands)) / 32
  game = _game(reference_logits_fn=reference, generator_fidelity_weight=2.0)
  plain = _game()
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  state = state.replace(generator=state.generator.replace(params=jax.tree.map(
      lambda a: a + 0.05, state.generator.params)))
  key = jax.random.PRNGKey(2)
  args = (state.generator.params, state, key, labels, seeds)
  loss, (aux, fake, _) = game._generator_loss(*args)  # pylint: disable=protected-access
  plain_loss, _ = plain._generator_loss(*args)  # pylint: disable=protected-access
  logits = np.asarray(reference(fake), np.float64)
  log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  by_hand = -np.mean(log_p[np.arange(len(labels)), np.asarray(labels)])
  np.testing.assert_allclose(float(aux["g_reference_ce"]), by_hand, rtol=1e-5)
  np.testing.assert_allclose(float(loss), float(plain_loss) + 2.0 * by_hand,
                             rtol=1e-5)
  # Only the reference's term: G moves its samples towards their class.
  state = state.replace(critic=state.critic.replace(
      params=jax.tree.map(jnp.zeros_like, state.critic.params)))
  params = dict(state.classifier.params)
  params["Dense_0"] = jax.tree.map(jnp.zeros_like, params["Dense_0"])
  state = state.replace(classifier=state.classifier.replace(params=params))
  ce = lambda s: float(objectives.cross_entropy(reference(game.sample(
      s, key, labels, seeds=seeds)), labels))
  for _ in range(3):
    grads, _ = jax.grad(game._generator_loss, has_aux=True)(  # pylint: disable=protected-access
        state.generator.params, state, key, labels, seeds)
    before, state = ce(state), state.replace(
        generator=state.generator.apply_gradients(grads, game.generator_tx))
    assert ce(state) < before
  with pytest.raises(ValueError, match="needs a reference"):
    _game(generator_fidelity_weight=1.0)


def _inference_ce(module, variables, images, labels):
  """CE of `module` in inference mode, by hand (optax's integer-label
  softmax CE, not wcgen's)."""
  logits = module.apply(variables, images, train=False)
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(
      logits, labels))


def test_running_batch_norm_trains_c_on_gs_samples_as_it_is_deployed():
  """perturbed_batch_norm="running": C's loss on G's samples is the
  inference-mode CE (the running statistics of real data, as G attacks C
  and evaluation scores it), its gradient is that CE's, and the samples
  leave the running statistics alone; "own" normalises the batch by its
  own statistics, which a shifted batch makes another loss."""
  own = _game(real_weight=0.0)
  running = _game(real_weight=0.0, perturbed_batch_norm="running")
  state = own.init(jax.random.PRNGKey(0), (32, 32, 1))
  batch = _batch()
  # Samples whose statistics are far from the real data's: a large shift.
  fake = jnp.clip(batch["balanced_image"] + 0.6, -1.0, 1.0)
  labels = batch["balanced_label"]
  args = (state, fake, labels, batch["image"], batch["label"],
          jax.random.PRNGKey(2))
  params = state.classifier.params
  variables = lambda p: dict(state.classifier.variables, params=p)
  clf = running.classifier

  loss, (_, stats) = running._classifier_loss(params, *args)  # pylint: disable=protected-access
  expected = _inference_ce(clf, variables(params), fake, labels)
  np.testing.assert_allclose(loss, expected, rtol=1e-6)
  jax.tree.map(np.testing.assert_array_equal, stats,
               state.classifier.batch_stats)
  grads = jax.grad(lambda p: running._classifier_loss(p, *args)[0])(params)  # pylint: disable=protected-access
  by_hand = jax.grad(lambda p: _inference_ce(clf, variables(p), fake,
                                             labels))(params)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5,
                                                       atol=1e-7),
               grads, by_hand)

  own_loss, (_, own_stats) = own._classifier_loss(params, *args)  # pylint: disable=protected-access
  assert abs(float(own_loss) - float(loss)) > 1e-3
  moved = jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b))),
                       own_stats, state.classifier.batch_stats)
  assert max(jax.tree.leaves(moved)) > 1e-3


def test_running_batch_norm_control_sees_its_companion_batch_as_deployed():
  """The control's companion batch under companion_batch_norm="running":
  its term of C's loss is the inference-mode CE, so the control and the
  game it controls for see their perturbed batches the same way."""
  clf = classifiers.TripleGANCNN(K, dropout_rate=0.0)
  common = dict(classifier=clf, classifier_tx=optax.sgd(1e-2), num_classes=K,
                companion_weight=1.0)
  own, running = ERM(**common), ERM(**common, companion_batch_norm="running")
  batch = _batch()
  batch["balanced_image"] = jnp.clip(batch["balanced_image"] + 0.6, -1, 1)
  state = own.init(jax.random.PRNGKey(0), (32, 32, 1))
  _, m_running = jax.jit(running.train_step)(state, batch)
  _, m_own = jax.jit(own.train_step)(state, batch)
  variables = state.classifier.variables
  real_logits = clf.apply(variables, batch["image"], train=True,
                          mutable=["batch_stats"])[0]
  real_ce = jnp.mean(optax.softmax_cross_entropy_with_integer_labels(
      real_logits, batch["label"]))
  companion_ce = _inference_ce(clf, variables, batch["balanced_image"],
                               batch["balanced_label"])
  np.testing.assert_allclose(m_running["c_loss"], real_ce + companion_ce,
                             rtol=1e-5)
  assert abs(float(m_own["c_loss"]) - float(m_running["c_loss"])) > 1e-3


def _ce(logits, labels):
  return jnp.mean(optax.softmax_cross_entropy_with_integer_labels(logits,
                                                                  labels))


def _real_stats_ce(clf, variables, real, perturbed, labels):
  """CE of `perturbed` in inference mode with the statistics of the real
  batch in place of the running ones -- a second path: the statistics come
  from wcgen.eval.batch_norm's interceptor, not from BatchNorm's mask."""
  stats = batch_norm.batch_statistics(clf, variables, real)
  return _ce(clf.apply(dict(variables, batch_stats=stats), perturbed,
                       train=False), labels)


def test_real_statistics_pass_normalises_both_batches_by_the_real_rows():
  """apply_with_real_statistics: the real rows come out as in a pass over
  the real batch alone (logits and new running statistics); the perturbed
  rows as in inference mode with the real batch's statistics; and the
  gradient flows through those statistics (it is not "running"'s)."""
  clf = classifiers.TripleGANCNN(K, dropout_rate=0.0)
  batch = _batch()
  real, labels = batch["image"], batch["label"]
  fake = jnp.clip(batch["balanced_image"] + 0.6, -1.0, 1.0)
  variables = clf.init(jax.random.PRNGKey(0), real)
  real_logits, fake_logits, stats = state_lib.apply_with_real_statistics(
      clf, variables, real, fake)
  alone, alone_stats = state_lib.apply_with_stats(clf, variables, real,
                                                  train=True)
  np.testing.assert_allclose(real_logits, alone, rtol=1e-5, atol=1e-6)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5,
                                                       atol=1e-7),
               stats, alone_stats)
  stats_of_real = batch_norm.batch_statistics(clf, variables, real)
  np.testing.assert_allclose(
      fake_logits, clf.apply(dict(variables, batch_stats=stats_of_real),
                             fake, train=False), rtol=1e-4, atol=1e-5)

  def joint(p):
    v = dict(variables, params=p)
    return _ce(state_lib.apply_with_real_statistics(clf, v, real, fake)[1],
               batch["balanced_label"])

  params = variables["params"]
  by_hand = jax.grad(lambda p: _real_stats_ce(
      clf, dict(variables, params=p), real, fake,
      batch["balanced_label"]))(params)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4,
                                                       atol=1e-6),
               jax.grad(joint)(params), by_hand)
  # Statistics held constant ("running" with these statistics) give another
  # gradient: the difference is the path through the statistics.
  constant = jax.grad(lambda p: _ce(clf.apply(
      dict(variables, params=p, batch_stats=stats_of_real), fake,
      train=False), batch["balanced_label"]))(params)
  gap = jax.tree.map(lambda a, b: float(jnp.max(jnp.abs(a - b))),
                     by_hand, constant)
  assert max(jax.tree.leaves(gap)) > 1e-4


def test_real_batch_mode_in_the_game_and_in_its_control():
  """perturbed_batch_norm="real_batch": C's loss is the real batch's
  training-mode CE plus the CE of G's samples normalised by that batch's
  statistics, and the running statistics are the real batch's alone; the
  control's companion batch is treated the same way."""
  game = _game(perturbed_batch_norm="real_batch")
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  batch = _batch()
  fake = jnp.clip(batch["balanced_image"] + 0.6, -1.0, 1.0)
  labels = batch["balanced_label"]
  clf, variables = game.classifier, state.classifier.variables
  loss, (_, stats) = game._classifier_loss(  # pylint: disable=protected-access
      state.classifier.params, state, fake, labels, batch["image"],
      batch["label"], jax.random.PRNGKey(2))
  real_logits, alone_stats = state_lib.apply_with_stats(
      clf, variables, batch["image"], train=True)
  fake_ce = _real_stats_ce(clf, variables, batch["image"], fake, labels)
  on = float(game._game_on(state))  # pylint: disable=protected-access
  np.testing.assert_allclose(
      loss, on * fake_ce + _ce(real_logits, batch["label"]), rtol=1e-5)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5,
                                                       atol=1e-7),
               stats, alone_stats)

  common = dict(classifier=classifiers.TripleGANCNN(K, dropout_rate=0.0),
                classifier_tx=optax.sgd(1e-2), num_classes=K,
                companion_weight=1.0)
  control = ERM(**common, companion_batch_norm="real_batch")
  batch["balanced_image"] = fake
  c_state = control.init(jax.random.PRNGKey(0), (32, 32, 1))
  _, metrics = jax.jit(control.train_step)(c_state, batch)
  c_vars = c_state.classifier.variables
  real_ce = _ce(state_lib.apply_with_stats(control.classifier, c_vars,
                                           batch["image"], train=True)[0],
                batch["label"])
  np.testing.assert_allclose(
      metrics["c_loss"], real_ce + _real_stats_ce(
          control.classifier, c_vars, batch["image"], fake, labels),
      rtol=1e-5)


def test_an_unknown_perturbed_batch_norm_is_refused():
  with pytest.raises(ValueError, match="perturbed_batch_norm must be one of"):
    _game(perturbed_batch_norm="batch")
  with pytest.raises(ValueError, match="companion_batch_norm must be one of"):
    ERM(classifiers.TripleGANCNN(K), optax.sgd(1e-2), K,
        companion_batch_norm="batch")
