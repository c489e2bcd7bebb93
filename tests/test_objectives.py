"""Losses against analytic values and NumPy."""

import jax
import jax.numpy as jnp
import numpy as np

from wcgen import objectives


def _linear_critic(w, b=0.3):
  return lambda x: jnp.sum(x.reshape(x.shape[0], -1) * w.reshape(-1), -1) + b


def test_gradient_penalty_of_linear_critic_is_analytic():
  # D(x) = <w, x> + b has gradient w everywhere: GP = (||w|| - 1)^2.
  rng = np.random.default_rng(0)
  w = jnp.asarray(rng.normal(size=(4, 4, 2)), jnp.float32)
  real = jnp.asarray(rng.normal(size=(8, 4, 4, 2)), jnp.float32)
  fake = jnp.asarray(rng.normal(size=(8, 4, 4, 2)), jnp.float32)
  gp = objectives.gradient_penalty(_linear_critic(w), real, fake,
                                   jax.random.PRNGKey(0))
  expected = (np.linalg.norm(np.asarray(w)) - 1.0) ** 2
  np.testing.assert_allclose(gp, expected, rtol=1e-5)


def test_gradient_penalty_is_finite_at_zero_gradient():
  real = jnp.ones((4, 3, 3, 1))
  fake = jnp.zeros((4, 3, 3, 1))
  zero_w = jnp.zeros((3, 3, 1))
  gp_fn = lambda w: objectives.gradient_penalty(_linear_critic(w), real, fake,
                                                jax.random.PRNGKey(1))
  gp, grad = jax.value_and_grad(gp_fn)(zero_w)
  assert float(gp) == 1.0  # (0 - 1)^2
  assert np.all(np.isfinite(np.asarray(grad)))


def test_gradient_penalty_uses_one_coefficient_per_sample():
  # A quadratic critic's gradient depends on where x_hat lies, so the
  # penalty reveals how the interpolation was drawn.
  real = jnp.full((6, 2, 2, 1), 2.0)
  fake = jnp.zeros((6, 2, 2, 1))
  key = jax.random.PRNGKey(7)
  critic = lambda x: 0.5 * jnp.sum(x.reshape(x.shape[0], -1) ** 2, -1)
  gp = objectives.gradient_penalty(critic, real, fake, key)
  alpha = np.asarray(jax.random.uniform(key, (6, 1, 1, 1)))[:, 0, 0, 0]
  # grad = x_hat = 2 * alpha in all 4 pixels: norm = 4 * alpha.
  np.testing.assert_allclose(gp, np.mean((4 * alpha - 1) ** 2), rtol=1e-5)


def _np_log_softmax(z):
  z = z - z.max(-1, keepdims=True)
  return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_losses_match_numpy():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=(5, 4)).astype(np.float32)
  logits_real = rng.normal(size=(5, 4)).astype(np.float32)
  labels = np.array([0, 3, 1, 1, 2])
  d_real = rng.normal(size=5).astype(np.float32)
  d_fake = rng.normal(size=5).astype(np.float32)
  ce = -np.mean(_np_log_softmax(logits)[np.arange(5), labels])
  ce_real = -np.mean(_np_log_softmax(logits_real)[np.arange(5), labels])
  np.testing.assert_allclose(objectives.cross_entropy(logits, labels), ce,
                             rtol=1e-6)
  np.testing.assert_allclose(
      objectives.wasserstein_critic_loss(d_real, d_fake),
      d_fake.mean() - d_real.mean(), rtol=1e-6)
  sig = lambda v: 1 / (1 + np.exp(-v))
  js = -np.mean(np.log(sig(d_real)) + np.log(1 - sig(d_fake)))
  np.testing.assert_allclose(objectives.js_discriminator_loss(d_real, d_fake),
                             js, rtol=1e-5)
  lam = 1 / 0.3
  np.testing.assert_allclose(
      objectives.worst_case_generator_loss(d_fake, logits, labels, lam),
      -(lam * d_fake.mean() + ce), rtol=1e-6)
  np.testing.assert_allclose(
      objectives.classifier_loss(logits, labels, logits_real, labels, 1.0,
                                 0.5), ce + 0.5 * ce_real, rtol=1e-6)
  np.testing.assert_allclose(
      objectives.classifier_loss(logits, labels, logits_real, labels, 1.0,
                                 0.0), ce, rtol=1e-6)
