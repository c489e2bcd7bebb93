"""The game's step: update directions, one trace, and metric sanity."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import optax

from wcgen.methods.worst_case import WorstCaseGame
from wcgen.models import classifiers, critics, generators

K = 4


def _game(**kwargs):
  sgd = optax.sgd(1e-3)
  defaults = dict(
      generator=generators.DCGANGenerator(K, 1, width=4),
      critic=critics.ProjectionCritic(K, width=4),
      classifier=classifiers.TripleGANCNN(K, dropout_rate=0.0),
      generator_tx=sgd, critic_tx=sgd, classifier_tx=optax.adam(1e-3),
      num_classes=K, latent_dim=8, eps=0.3)
  defaults.update(kwargs)
  return WorstCaseGame(**defaults)


def _batch(n=8):
  rng = np.random.default_rng(0)
  return {"image": jnp.asarray(rng.uniform(-1, 1, (n, 32, 32, 1)),
                               jnp.float32),
          "label": jnp.asarray(np.arange(n) % K, jnp.int32)}


def _zero_params(player, path_contains):
  params = jax.tree_util.tree_map_with_path(
      lambda p, a: jnp.zeros_like(a)
      if any(path_contains in str(k) for k in p) else a, player.params)
  return player.replace(params=params)


def _g_update(game, state, key, labels):
  grads, _ = jax.grad(game._generator_loss, has_aux=True)(  # pylint: disable=protected-access
      state.generator.params, state, key, labels)
  return state.replace(generator=state.generator.apply_gradients(
      grads, game.generator_tx))


def _fake_scores(game, state, key, labels):
  fake, _ = game._generate(state.generator, key, labels)  # pylint: disable=protected-access
  ce = optax.softmax_cross_entropy_with_integer_labels(
      game.classifier_logits(state, fake), labels).mean()
  d = game.critic.apply(state.critic.variables, fake, labels).mean()
  return float(ce), float(d)


def test_generator_update_raises_classifier_loss():
  # With a zero critic (D = 0), G's only signal is C's loss: it must rise.
  game = _game()
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  state = state.replace(critic=_zero_params(state.critic, "params"))
  key, labels = jax.random.PRNGKey(3), jnp.arange(8) % K
  ce0, _ = _fake_scores(game, state, key, labels)
  ce1, _ = _fake_scores(game, _g_update(game, state, key, labels), key, labels)
  assert ce1 > ce0


def test_generator_update_raises_critic_score():
  # With C's last layer zeroed (constant logits), CE has no gradient, so G
  # follows lambda * D alone and D(G(z), y) must rise.
  game = _game()
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  clf = state.classifier
  params = dict(clf.params)
  params["Dense_0"] = jax.tree.map(jnp.zeros_like, params["Dense_0"])
  state = state.replace(classifier=clf.replace(params=params))
  key, labels = jax.random.PRNGKey(4), jnp.arange(8) % K
  ce0, d0 = _fake_scores(game, state, key, labels)
  ce1, d1 = _fake_scores(game, _g_update(game, state, key, labels), key,
                         labels)
  assert d1 > d0
  np.testing.assert_allclose(ce1, ce0, rtol=1e-6)  # C is constant: CE fixed


def test_critic_update_widens_the_wasserstein_estimate():
  game = _game(gp_weight=0.0)
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  batch = _batch()
  new_state, metrics = jax.jit(game.train_step)(state, batch)
  key = jax.random.PRNGKey(9)
  fake, _ = game._generate(state.generator, key, batch["label"])  # pylint: disable=protected-access
  gap = lambda s: float(
      game.critic.apply(s.critic.variables, batch["image"], batch["label"]).mean()
      - game.critic.apply(s.critic.variables, fake, batch["label"]).mean())
  assert gap(new_state) > gap(state)
  assert set(metrics) >= {"d_loss", "gp", "w_distance", "g_loss", "c_loss"}


def test_joint_step_is_traced_once_and_advances():
  game = _game(n_critic=2)
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  step = jax.jit(chex.assert_max_traces(game.train_step, n=1))
  batch = _batch()
  for _ in range(3):
    state, metrics = step(state, batch)
  assert int(state.step) == 3
  assert all(np.isfinite(float(v)) for v in metrics.values())


def test_same_key_same_result_and_js_variant_runs():
  for divergence in ("wasserstein", "js"):
    game = _game(divergence=divergence, real_weight=0.0)
    s0 = game.init(jax.random.PRNGKey(0), (32, 32, 1))
    a, ma = jax.jit(game.train_step)(s0, _batch())
    b, mb = jax.jit(game.train_step)(
        game.init(jax.random.PRNGKey(0), (32, 32, 1)), _batch())
    jax.tree.map(np.testing.assert_array_equal, a, b)
    assert ("gp" in ma) == (divergence == "wasserstein")


def test_warmup_drops_the_game_terms_then_restores_them():
  game = _game(warmup_steps=1)
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  step = jax.jit(game.train_step)
  state, warm = step(state, _batch())  # step 0: warm-up
  _, on = step(state, _batch())        # step 1: the game
  np.testing.assert_allclose(warm["g_loss"], -game.lam * warm["g_adversary"],
                             rtol=1e-5)
  np.testing.assert_allclose(
      on["g_loss"], -(game.lam * on["g_adversary"] + on["g_ce"]), rtol=1e-5)


def test_real_loss_fn_replaces_only_the_real_term():
  from wcgen import classification_losses as cl  # pylint: disable=g-import-not-at-top
  from wcgen import objectives  # pylint: disable=g-import-not-at-top
  counts = np.array([40, 20, 10, 5])
  la = lambda z, y, step: cl.logit_adjusted_loss(z, y, counts, 1.0)
  plain, adjusted = _game(), _game(real_loss_fn=la)
  state = plain.init(jax.random.PRNGKey(0), (32, 32, 1))
  batch = _batch()
  fake = jnp.zeros_like(batch["image"])
  args = (state.classifier.params, state, fake, batch["label"],
          batch["image"], batch["label"], jax.random.PRNGKey(1))
  l_plain = plain._classifier_loss(*args)[0]  # pylint: disable=protected-access
  l_adj = adjusted._classifier_loss(*args)[0]  # pylint: disable=protected-access
  # The real batch's logits, from its own pass (train-mode BatchNorm).
  real_logits, _ = plain.classifier.apply(
      state.classifier.variables, batch["image"], train=True,
      mutable=["batch_stats"])
  expected = plain.real_weight * (
      cl.logit_adjusted_loss(real_logits, batch["label"], counts, 1.0) -
      objectives.cross_entropy(real_logits, batch["label"]))
  np.testing.assert_allclose(l_adj - l_plain, expected, rtol=1e-4, atol=1e-6)
  assert abs(float(expected)) > 1e-3


def test_classifier_running_stats_come_from_real_images_only():
  game = _game()
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  batch = _batch()
  fake = jnp.full_like(batch["image"], 5.0)  # wildly off-distribution
  args = (state.classifier.params, state, fake, batch["label"],
          batch["image"], batch["label"], jax.random.PRNGKey(1))
  _, (_, stats) = game._classifier_loss(*args)  # pylint: disable=protected-access
  _, real_only = game.classifier.apply(state.classifier.variables,
                                       batch["image"], train=True,
                                       mutable=["batch_stats"])
  jax.tree.map(np.testing.assert_array_equal, stats,
               real_only["batch_stats"])


def test_generator_attacks_ignores_or_helps_the_classifier():
  """G's loss for signs +1 (worst case), 0 (GAN augmentation), -1
  (Triple-GAN) is -(lam D) -/+ CE: the three are affine in the sign."""
  key, labels = jax.random.PRNGKey(3), jnp.arange(8) % K
  losses, ces = {}, {}
  for sign in (1.0, 0.0, -1.0):
    game = _game(generator_vs_classifier=sign)
    state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
    loss, (aux, _, _) = game._generator_loss(  # pylint: disable=protected-access
        state.generator.params, state, key, labels)
    losses[sign], ces[sign] = float(loss), float(aux["g_ce"])
  assert ces[1.0] == ces[0.0] == ces[-1.0] > 0
  np.testing.assert_allclose(losses[1.0] - losses[0.0], -ces[0.0], rtol=1e-5)
  np.testing.assert_allclose(losses[-1.0] - losses[0.0], ces[0.0], rtol=1e-5)


def test_generator_average_is_the_debiased_ema_of_gs_updates():
  """generator_ema_decay d: after k joint steps, the average C's samples
  come from is sum_i (1-d) d^(k-i) g_i / (1 - d^k) over G's parameters g_i
  after each update (Adam's bias correction), computed here by hand."""
  decay = 0.6
  game = _game(generator_ema_decay=decay)
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  # At init, before any update, the average is G itself.
  jax.tree.map(np.testing.assert_array_equal,
               game.generator_ema_params(state), state.generator.params)
  step = jax.jit(game.train_step)
  after_each = []
  for _ in range(3):
    state, _ = step(state, _batch())
    after_each.append(state.generator.params)
  k = len(after_each)
  expected = jax.tree.map(
      lambda *g: sum((1 - decay) * decay**(k - 1 - i) * g[i]
                     for i in range(k)) / (1 - decay**k), *after_each)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5,
                                                       atol=1e-7),
               game.generator_ema_params(state), expected)
  # ... and it is not the raw G, which the average lags behind.
  diffs = jax.tree.leaves(jax.tree.map(
      lambda a, b: float(jnp.max(jnp.abs(a - b))),
      game.generator_ema_params(state), state.generator.params))
  assert max(diffs) > 0


def test_samples_come_from_the_average_of_g_and_c_trains_on_them():
  """With an average of G, `sample` draws from it, and C's update sees the
  averaged G's images: after one step (where the debiased average is the
  updated G) C differs from the same step without the average, which
  trains C on the G of before its update, while G's own update is the
  same."""
  labels = jnp.arange(8) % K
  key = jax.random.PRNGKey(3)
  with_avg = _game(generator_ema_decay=0.5, real_weight=0.0)
  without = _game(real_weight=0.0)
  state = with_avg.init(jax.random.PRNGKey(0), (32, 32, 1))
  plain_state = without.init(jax.random.PRNGKey(0), (32, 32, 1))
  s1, _ = jax.jit(with_avg.train_step)(state, _batch())
  p1, _ = jax.jit(without.train_step)(plain_state, _batch())
  jax.tree.map(np.testing.assert_array_equal, s1.generator.params,
               p1.generator.params)
  diffs = jax.tree.leaves(jax.tree.map(
      lambda a, b: float(jnp.max(jnp.abs(a - b))),
      s1.classifier.params, p1.classifier.params))
  assert max(diffs) > 0
  # A second step: the average now lags behind G, and sample() is its.
  s2, _ = jax.jit(with_avg.train_step)(s1, _batch())
  averaged, _ = with_avg._generate(  # pylint: disable=protected-access
      s2.generator, key, labels, with_avg.generator_ema_params(s2))
  np.testing.assert_array_equal(with_avg.sample(s2, key, labels), averaged)
  raw, _ = with_avg._generate(s2.generator, key, labels)  # pylint: disable=protected-access
  assert float(jnp.max(jnp.abs(averaged - raw))) > 1e-5


def test_the_default_games_state_is_the_tree_checkpoints_were_saved_with():
  """Without an average of G the state has exactly the five fields every
  checkpoint so far holds (an extra field, even an empty one, stops orbax
  restoring them: "does not fit this config's model"); the average lives
  in its own state class."""
  from wcgen.methods import worst_case  # pylint: disable=g-import-not-at-top
  state = _game().init(jax.random.PRNGKey(0), (32, 32, 1))
  assert type(state) is worst_case.GameState  # pylint: disable=unidiomatic-typecheck
  assert list(state.__dataclass_fields__) == [
      "step", "rng", "generator", "critic", "classifier"]
  averaged = _game(generator_ema_decay=0.9).init(jax.random.PRNGKey(0),
                                                  (32, 32, 1))
  assert isinstance(averaged, worst_case.AveragedGameState)


def test_generator_average_decay_is_checked():
  import pytest  # pylint: disable=g-import-not-at-top
  with pytest.raises(ValueError, match="generator_ema_decay"):
    _game(generator_ema_decay=1.0)


def test_generator_average_is_checkpointed_and_restored(tmp_path):
  """The average (optax.ema's state, a NamedTuple) goes through the
  checkpoint and comes back into a differently seeded state unchanged, so
  a resumed run samples from the same averaged G."""
  from wcgen.core import checkpointing  # pylint: disable=g-import-not-at-top
  game = _game(generator_ema_decay=0.9)
  state = game.init(jax.random.PRNGKey(0), (32, 32, 1))
  for _ in range(2):
    state, _ = jax.jit(game.train_step)(state, _batch())
  ckpt = checkpointing.Checkpointer(str(tmp_path / "ckpt"))
  ckpt.save(2, state)
  ckpt.close()
  ckpt = checkpointing.Checkpointer(str(tmp_path / "ckpt"))
  restored = ckpt.restore_or(game.init(jax.random.PRNGKey(7), (32, 32, 1)))
  ckpt.close()
  assert int(restored.generator_ema.count) == 2
  jax.tree.map(np.testing.assert_array_equal, restored.generator_ema,
               state.generator_ema)
