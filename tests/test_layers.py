"""The fast stride-2 layers equal flax's, in values and in gradients."""

import os
import subprocess
import sys
import textwrap

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wcgen.models import layers

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PAIRS = [
    (lambda: layers.Conv4x4Stride2(5),
     lambda: nn.Conv(5, (4, 4), (2, 2), padding="SAME")),
    (lambda: layers.ConvTranspose4x4Stride2(5),
     lambda: nn.ConvTranspose(5, (4, 4), (2, 2), padding="SAME")),
]


@pytest.mark.parametrize("fast_fn,ref_fn", PAIRS)
def test_same_parameters_values_and_gradients(fast_fn, ref_fn):
  fast, ref = fast_fn(), ref_fn()
  x = jax.random.normal(jax.random.PRNGKey(0), (3, 8, 8, 4))
  v_ref = ref.init(jax.random.PRNGKey(1), x)
  v_fast = fast.init(jax.random.PRNGKey(1), x)
  # Same parameter tree, shapes and initial values.
  jax.tree.map(np.testing.assert_array_equal, v_ref, v_fast)
  # Non-zero bias so that it is tested too.
  v = jax.tree.map(lambda a: a + 0.05, v_ref)
  np.testing.assert_allclose(fast.apply(v, x), ref.apply(v, x), atol=1e-5)

  def loss(module):
    return lambda p, xx: jnp.sum(jnp.sin(module.apply(p, xx)))
  g_fast = jax.grad(loss(fast), argnums=(0, 1))(v, x)
  g_ref = jax.grad(loss(ref), argnums=(0, 1))(v, x)
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, atol=1e-4),
               g_fast, g_ref)


def test_double_backward_matches_flax():
  # The gradient penalty differentiates an input-gradient norm.
  fast, ref = layers.Conv4x4Stride2(3), nn.Conv(3, (4, 4), (2, 2), "SAME")
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 8, 8, 2))
  v = ref.init(jax.random.PRNGKey(1), x)

  def penalty(module):
    def f(p):
      g = jax.grad(lambda xx: jnp.sum(jnp.tanh(module.apply(p, xx))))(x)
      return jnp.sum(g**2)
    return f
  jax.tree.map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-4,
                                                       atol=1e-6),
               jax.grad(penalty(fast))(v), jax.grad(penalty(ref))(v))


def test_space_to_depth_round_trip_and_pools():
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 4, 3))
  np.testing.assert_array_equal(
      layers.depth_to_space_2x(layers.space_to_depth_2x(x)), x)
  xn = np.asarray(x)
  np.testing.assert_allclose(
      layers.max_pool_2x2(x),
      xn.reshape(2, 3, 2, 2, 2, 3).max(axis=(2, 4)))
  np.testing.assert_allclose(
      layers.upsample_nearest_2x(x), xn.repeat(2, 1).repeat(2, 2))


def test_max_pool_gradient_matches_flax():
  # Flax's max_pool (reduce_window; select-and-scatter gradient) is the
  # second path. Continuous random input: no ties, so both are one-hot.
  x = jax.random.normal(jax.random.PRNGKey(0), (2, 6, 4, 3))
  ct = jax.random.normal(jax.random.PRNGKey(1), (2, 3, 2, 3))
  ours = jax.grad(lambda xx: jnp.sum(layers.max_pool_2x2(xx) * ct))(x)
  flax = jax.grad(lambda xx: jnp.sum(
      nn.max_pool(xx, (2, 2), (2, 2)) * ct))(x)
  np.testing.assert_array_equal(ours, flax)


# Conv, batch statistics, leaky ReLU, pool: the classifier's block. XLA at
# --xla_backend_optimization_level=0 recomputes the pool's input in the
# backward pass with other rounding; a `jnp.max` reduction's gradient was
# then 0/0 = NaN in every entry (6144 of 6144; session 24).
_POOL_SCRIPT = textwrap.dedent("""
    import sys
    import jax, jax.numpy as jnp, numpy as np
    from wcgen.models import layers
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(8, 16, 16, 3)), jnp.float32)
    k = jnp.asarray(rng.normal(size=(3, 3, 3, 8)) * 0.3, jnp.float32)
    s = jnp.asarray(rng.normal(size=(8,)), jnp.float32)
    def f(x):
      h = jax.lax.conv_general_dilated(
          x, k, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"))
      h = (h - h.mean((0, 1, 2))) * jax.lax.rsqrt(h.var((0, 1, 2)) + 1e-5)
      h = jax.nn.leaky_relu(h * s + 0.1, 0.1)
      return jnp.sum(layers.max_pool_2x2(h) ** 2)
    np.save(sys.argv[1], np.asarray(jax.jit(jax.grad(f))(x)))
    """)


def test_max_pool_gradient_is_finite_when_xla_recomputes_its_input(
    tmp_path):
  grads = {}
  for level in ("0", "2"):
    path = str(tmp_path / f"grad_o{level}.npy")
    env = dict(os.environ, JAX_PLATFORMS="cpu",
               XLA_FLAGS=f"--xla_backend_optimization_level={level}",
               PYTHONPATH=REPO)
    proc = subprocess.run([sys.executable, "-c", _POOL_SCRIPT, path],
                          env=env, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    grads[level] = np.load(path)
  assert np.isfinite(grads["0"]).all(), (
      f"{np.isnan(grads['0']).sum()} NaN of {grads['0'].size}")
  # The same gradient, not merely a finite one (no window's lost).
  np.testing.assert_allclose(grads["0"], grads["2"], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", [(6, 5), (6, 3, 3, 5)])
def test_conditional_batchnorm_matches_numpy(shape):
  """Per-class gain and bias on top of batch-statistics normalisation."""
  rng = np.random.default_rng(0)
  x = rng.normal(2.0, 3.0, shape).astype(np.float32)
  labels = np.array([0, 1, 2, 3, 1, 0])
  module = layers.ConditionalBatchNorm(4)
  variables = module.init(jax.random.PRNGKey(0), x, labels, train=True)
  # Zero embeddings at initialisation: plain BatchNorm without affine.
  axes = tuple(range(x.ndim - 1))
  normed = (x - x.mean(axes)) / np.sqrt(x.var(axes) + 1e-5)
  out, _ = module.apply(variables, x, labels, train=True,
                        mutable=["batch_stats"])
  np.testing.assert_allclose(out, normed, atol=1e-4)
  gain = rng.normal(size=(4, 5)).astype(np.float32)
  bias = rng.normal(size=(4, 5)).astype(np.float32)
  params = {"Embed_0": {"embedding": gain}, "Embed_1": {"embedding": bias}}
  out, _ = module.apply({**variables, "params": params}, x, labels,
                        train=True, mutable=["batch_stats"])
  expand = (slice(None),) + (None,) * (x.ndim - 2)
  expected = normed * (1 + gain[labels][expand]) + bias[labels][expand]
  np.testing.assert_allclose(out, expected, atol=1e-4)
