"""bfloat16 compute with float32 master weights (wcgen.models.precision)."""

import jax
import jax.numpy as jnp
import numpy as np
import optax

from wcgen import methods
from wcgen.methods.worst_case import WorstCaseGame
from wcgen.models import classifiers, critics, generators
from wcgen.models.precision import MixedPrecision


def _game(wrap):
  sgd = optax.sgd(1e-2)
  return WorstCaseGame(
      wrap(generators.DCGANGenerator(4, 1, 4)),
      wrap(critics.ProjectionCritic(4, 4)),
      wrap(classifiers.TripleGANCNN(4, dropout_rate=0.0)), sgd, sgd, sgd,
      num_classes=4, latent_dim=8)


def test_bfloat16_step_keeps_float32_state_and_tracks_float32():
  rng = np.random.default_rng(0)
  batch = {"image": jnp.asarray(rng.uniform(-1, 1, (8, 32, 32, 1)),
                                jnp.float32),
           "label": jnp.asarray(np.arange(8) % 4, jnp.int32)}
  bf16 = _game(lambda m: MixedPrecision(m, jnp.bfloat16))
  f32 = _game(lambda m: m)
  key = jax.random.PRNGKey(0)
  # Same float32 initial state: the wrapper's init is the module's.
  state_a, state_b = bf16.init(key, (32, 32, 1)), f32.init(key, (32, 32, 1))
  for a, b in zip(jax.tree.leaves(state_a), jax.tree.leaves(state_b)):
    np.testing.assert_array_equal(a, b)
  state_a, metrics_a = jax.jit(bf16.train_step)(state_a, batch)
  _, metrics_b = jax.jit(f32.train_step)(state_b, batch)
  for leaf in jax.tree.leaves(state_a.classifier) + jax.tree.leaves(
      state_a.generator):
    if jnp.issubdtype(leaf.dtype, jnp.floating):
      assert leaf.dtype == jnp.float32
  for name in ("c_loss", "g_ce", "w_distance"):
    a, b = float(metrics_a[name]), float(metrics_b[name])
    assert np.isfinite(a)
    # bfloat16 keeps 8 significant bits: agreement to a few percent.
    assert abs(a - b) <= 0.05 * abs(b) + 0.05, (name, a, b)


def test_the_convolutions_run_in_bfloat16():
  module = MixedPrecision(critics.ProjectionCritic(4, 4), jnp.bfloat16)
  x, y = jnp.zeros((2, 32, 32, 1)), jnp.zeros((2,), jnp.int32)
  variables = module.init(jax.random.PRNGKey(0), x, y)
  jaxpr = str(jax.make_jaxpr(module.apply)(variables, x, y))
  convs = [l for l in jaxpr.splitlines() if "conv_general_dilated" in l]
  assert convs and all("bf16" in l for l in convs)
  assert module.apply(variables, x, y).dtype == jnp.float32


def test_config_switch(tiny_config):
  tiny_config.model.compute_dtype = "bfloat16"
  game = methods.create(tiny_config, 10, 1, [2] * 10)
  assert isinstance(game.classifier, MixedPrecision)
  assert isinstance(game.critic, MixedPrecision)
  tiny_config.model.compute_dtype = "float32"
  assert not isinstance(methods.create(tiny_config, 10, 1, [2] * 10).classifier,
                        MixedPrecision)
