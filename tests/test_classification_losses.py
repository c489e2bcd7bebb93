"""Long-tail losses against NumPy references written from the papers."""

import jax
import numpy as np
import pytest

from wcgen import classification_losses as cl

COUNTS = np.array([500, 120, 40, 9])
RNG = np.random.default_rng(0)
LOGITS = RNG.normal(size=(6, 4)).astype(np.float32)
LABELS = np.array([0, 1, 2, 3, 3, 0])


def np_ce(logits, labels):
  z = logits - logits.max(-1, keepdims=True)
  logp = z - np.log(np.exp(z).sum(-1, keepdims=True))
  return -logp[np.arange(len(labels)), labels]


def np_cb_weights(counts, beta):
  effective = (1 - beta**counts) / (1 - beta)  # Cui et al. Eq. 3
  w = 1 / effective
  return w / w.sum() * len(counts)


def test_effective_number_weights():
  for beta in (0.9, 0.999, 0.9999):
    np.testing.assert_allclose(cl.effective_number_weights(COUNTS, beta),
                               np_cb_weights(COUNTS, beta), rtol=1e-5)
  # beta -> 0 gives uniform weights; weights fall as counts rise.
  np.testing.assert_allclose(cl.effective_number_weights(COUNTS, 0.0),
                             np.ones(4), rtol=1e-6)
  assert np.all(np.diff(cl.effective_number_weights(COUNTS, 0.999)) > 0)


def test_class_balanced_softmax_sigmoid_focal():
  beta, gamma = 0.999, 2.0
  w = np_cb_weights(COUNTS, beta)[LABELS]
  np.testing.assert_allclose(
      cl.class_balanced_loss(LOGITS, LABELS, COUNTS, beta, "softmax"),
      np.mean(w * np_ce(LOGITS, LABELS)), rtol=1e-5)
  onehot = np.eye(4)[LABELS]
  p = 1 / (1 + np.exp(-LOGITS))
  bce = -(onehot * np.log(p) + (1 - onehot) * np.log(1 - p))
  np.testing.assert_allclose(
      cl.class_balanced_loss(LOGITS, LABELS, COUNTS, beta, "sigmoid"),
      np.mean(w * bce.sum(-1)), rtol=1e-5)
  p_t = onehot * p + (1 - onehot) * (1 - p)
  np.testing.assert_allclose(
      cl.class_balanced_loss(LOGITS, LABELS, COUNTS, beta, "focal", gamma),
      np.mean(w * ((1 - p_t)**gamma * bce).sum(-1)), rtol=1e-5)


def test_logit_adjustment_and_balanced_softmax():
  prior = COUNTS / COUNTS.sum()
  for tau in (0.5, 1.0, 2.0):
    np.testing.assert_allclose(
        cl.logit_adjusted_loss(LOGITS, LABELS, COUNTS, tau),
        np.mean(np_ce(LOGITS + tau * np.log(prior), LABELS)), rtol=1e-5)
  # Balanced softmax adds log n_c; softmax is shift-invariant, so it equals
  # logit adjustment with tau = 1.
  np.testing.assert_allclose(
      cl.balanced_softmax_loss(LOGITS, LABELS, COUNTS),
      np.mean(np_ce(LOGITS + np.log(COUNTS), LABELS)), rtol=1e-5)


def test_ldam_margins_and_loss():
  margins = cl.ldam_margins(COUNTS, 0.5)
  np.testing.assert_allclose(margins * COUNTS**0.25,
                             np.full(4, margins[0] * COUNTS[0]**0.25),
                             rtol=1e-5)  # m_c ∝ n_c^(-1/4)
  assert margins.max() == pytest.approx(0.5)
  assert np.argmax(margins) == 3  # rarest class, largest margin
  adjusted = LOGITS.copy()
  adjusted[np.arange(6), LABELS] -= margins[LABELS]
  np.testing.assert_allclose(
      cl.ldam_loss(LOGITS, LABELS, COUNTS, 0.5, 30.0),
      np.mean(np_ce(30 * adjusted, LABELS)), rtol=1e-5)
  w = np_cb_weights(COUNTS, 0.9999)
  np.testing.assert_allclose(
      cl.ldam_loss(LOGITS, LABELS, COUNTS, 0.5, 30.0, w),
      np.mean(w[LABELS] * np_ce(30 * adjusted, LABELS)), rtol=1e-5)


def _spec(**kw):
  return cl.LossSpec(**{"cb_beta": 0.999, "drw_start_step": 10, **kw})


def test_ldam_drw_switches_weights_on_at_its_step():
  loss = jax.jit(cl.make_loss(_spec(name="ldam"), COUNTS))
  plain = cl.ldam_loss(LOGITS, LABELS, COUNTS, 0.5, 30.0)
  weighted = cl.ldam_loss(LOGITS, LABELS, COUNTS, 0.5, 30.0,
                          cl.effective_number_weights(COUNTS, 0.9999))
  np.testing.assert_allclose(loss(LOGITS, LABELS, 9), plain, rtol=1e-6)
  np.testing.assert_allclose(loss(LOGITS, LABELS, 10), weighted, rtol=1e-6)


def test_posthoc_offset_is_tau_log_prior():
  np.testing.assert_allclose(cl.posthoc_offset(1.5, COUNTS),
                             1.5 * np.log(COUNTS / COUNTS.sum()), rtol=1e-6)
