"""BigGAN's spectral normalisation, shapes, and its place in the game."""

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from wcgen.methods.worst_case import WorstCaseGame
from wcgen.models import biggan, classifiers


def test_spectral_norm_estimate_matches_svd():
  w = np.random.default_rng(0).normal(size=(12, 7)).astype(np.float32)
  layer = nn.SpectralNorm(nn.Dense(7, use_bias=False))
  x = jnp.ones((1, 12))
  variables = layer.init(jax.random.PRNGKey(0), x, update_stats=False)
  variables = {"params": {"layer_instance": {"kernel": jnp.asarray(w)}},
               "batch_stats": variables["batch_stats"]}
  for _ in range(50):  # power iteration, one step per update
    _, mutated = layer.apply(variables, x, update_stats=True,
                             mutable=["batch_stats"])
    variables = dict(variables, batch_stats=mutated["batch_stats"])
  stats = jax.tree_util.tree_leaves_with_path(variables["batch_stats"])
  sigma = [float(v) for p, v in stats if "sigma" in jax.tree_util.keystr(p)]
  np.testing.assert_allclose(sigma[0], np.linalg.svd(w)[1][0], rtol=1e-4)
  # The layer then computes x @ (W / sigma_max).
  out = layer.apply(variables, x, update_stats=False)
  np.testing.assert_allclose(out, x @ (w / np.linalg.svd(w)[1][0]),
                             rtol=1e-4, atol=1e-5)


def test_generator_and_discriminator_shapes():
  g = biggan.BigGANGenerator(10, 3, ch=4)
  z, y = jnp.zeros((2, 16)), jnp.array([1, 7])
  images = jax.eval_shape(lambda: g.init_with_output(
      jax.random.PRNGKey(0), z, y, train=False)[0])
  assert images.shape == (2, 32, 32, 3)
  d = biggan.BigGANDiscriminator(10, ch=4)
  scores, variables = d.init_with_output(jax.random.PRNGKey(0),
                                         jnp.zeros((2, 32, 32, 3)), y)
  assert scores.shape == (2,)
  assert "batch_stats" in variables  # spectral norm's vectors


def test_game_with_biggan_advances_the_power_iteration():
  sgd = optax.sgd(1e-3)
  game = WorstCaseGame(
      biggan.BigGANGenerator(4, 3, ch=2), biggan.BigGANDiscriminator(4, ch=2),
      classifiers.TripleGANCNN(4, dropout_rate=0.0), sgd, sgd, sgd,
      num_classes=4, latent_dim=8)
  state = game.init(jax.random.PRNGKey(0), (32, 32, 3))
  batch = {"image": jnp.asarray(np.random.default_rng(0).uniform(
      -1, 1, (8, 32, 32, 3)), jnp.float32), "label": jnp.arange(8) % 4}
  new, metrics = jax.jit(game.train_step)(state, batch)
  assert all(np.isfinite(float(v)) for v in metrics.values())
  before = jax.tree.leaves(state.critic.batch_stats)
  after = jax.tree.leaves(new.critic.batch_stats)
  assert any(not np.allclose(a, b) for a, b in zip(before, after))
  assert float(metrics["gp"]) >= 0
