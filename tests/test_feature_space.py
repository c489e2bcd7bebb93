"""The feature-space worst case (methods.feature_space) and its control:
the perturbation the interceptor adds at C's head matches one computed by
jax.grad on the head alone, has the asked norm, raises the loss more than
a random one of the same norm, and leaves the real rows of a joint pass
alone; seed_control trains on it."""

import os
import re
import subprocess
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from wcgen import models
from wcgen.methods.erm import ERM
from wcgen.methods.feature_space import head_input_perturbation
from wcgen.models import classifiers

K = 4


def _setup(n=8, seed=0):
  clf = classifiers.TripleGANCNN(K, dropout_rate=0.0)
  rng = np.random.default_rng(seed)
  x = jnp.asarray(rng.uniform(-1, 1, (n, 32, 32, 1)), jnp.float32)
  y = jnp.asarray(np.arange(n) % K, jnp.int32)
  variables = clf.init(jax.random.PRNGKey(seed), x, train=False)
  return clf, variables, x, y


def _perturbed_logits(clf, variables, x, y, size, kind, first_row=0,
                      labels=None):
  interceptor = head_input_perturbation(
      K, y if labels is None else labels, size, kind, jax.random.PRNGKey(7),
      first_row)
  with nn.intercept_methods(interceptor):
    return clf.apply(variables, x, train=False)


def test_adversarial_feature_perturbation_matches_jax_grad_on_the_head():
  clf, variables, x, y = _setup()
  logits, feats = clf.apply(variables, x, train=False, return_features=True)
  head = variables["params"]["Dense_0"]
  apply_head = lambda h: h @ head["kernel"] + head["bias"]
  np.testing.assert_allclose(apply_head(feats), logits, rtol=1e-5, atol=1e-6)
  # Per-row gradient of CE_i w.r.t. h_i: the sum's gradient, row by row.
  grad = jax.grad(lambda h: jnp.sum(
      optax.softmax_cross_entropy_with_integer_labels(apply_head(h), y)))(
          feats)
  size = 0.3
  delta = size * jnp.linalg.norm(feats, axis=-1, keepdims=True) * grad / (
      jnp.linalg.norm(grad, axis=-1, keepdims=True))
  np.testing.assert_allclose(
      _perturbed_logits(clf, variables, x, y, size, "feature_adversarial"),
      apply_head(feats + delta), rtol=1e-4, atol=1e-5)
  # Size 0 changes nothing.
  np.testing.assert_allclose(
      _perturbed_logits(clf, variables, x, y, 0.0, "feature_adversarial"),
      logits, rtol=1e-6, atol=1e-6)


def test_adversarial_direction_raises_the_loss_more_than_a_random_one():
  clf, variables, x, y = _setup(n=32)
  ce = lambda logits: np.asarray(
      optax.softmax_cross_entropy_with_integer_labels(logits, y))
  clean = ce(clf.apply(variables, x, train=False))
  adv = ce(_perturbed_logits(clf, variables, x, y, 0.5, "feature_adversarial"))
  rand = ce(_perturbed_logits(clf, variables, x, y, 0.5, "feature_random"))
  # CE is convex in h (linear head), so the steepest direction raises every
  # row's loss by at least its first-order gain, which is positive.
  assert np.all(adv > clean)
  assert adv.mean() > rand.mean()
  assert not np.allclose(rand, clean)  # the random control does move h


def test_random_feature_perturbation_has_the_asked_norm():
  """||delta_i|| = size * ||h_i||, read off a head with an identity kernel
  and no bias, whose output is h + delta itself."""
  h = jnp.asarray(np.random.default_rng(0).normal(size=(6, K)), jnp.float32)
  head = nn.Dense(K)
  variables = {"params": {"kernel": jnp.eye(K), "bias": jnp.zeros(K)}}
  with nn.intercept_methods(head_input_perturbation(
      K, jnp.zeros(6, jnp.int32), 0.25, "feature_random",
      jax.random.PRNGKey(1))):
    out = head.apply(variables, h)
  delta = np.asarray(out - h)
  np.testing.assert_allclose(np.linalg.norm(delta, axis=-1),
                             0.25 * np.linalg.norm(h, axis=-1), rtol=1e-5)


def test_rows_before_first_row_are_left_alone():
  clf, variables, x, y = _setup()
  logits = clf.apply(variables, x, train=False)
  out = _perturbed_logits(clf, variables, x, y, 0.5, "feature_adversarial",
                          first_row=5, labels=y[5:])
  np.testing.assert_allclose(out[:5], logits[:5], rtol=1e-6, atol=1e-6)
  assert not np.allclose(out[5:], logits[5:], atol=1e-3)


@pytest.mark.parametrize("name", models.CLASSIFIERS)
def test_every_classifier_has_one_head_the_interceptor_finds(name):
  """The interceptor recognises the head as the one Dense layer with
  num_classes outputs: every classifier of the zoo must have exactly one."""
  clf = models.create_classifier(name, K)
  x = jnp.zeros((2, 32, 32, 3), jnp.float32)
  hits = []

  def count(next_fun, args, kwargs, context):
    if isinstance(context.module, nn.Dense) and (
        context.method_name == "__call__"):
      hits.append(context.module.features)
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(count):
    jax.eval_shape(lambda: clf.init(jax.random.PRNGKey(0), x, train=False))
  assert hits == [K]


@pytest.mark.parametrize("batch_norm", ["own", "real_batch"])
def test_seed_control_trains_on_the_feature_space_worst_case(batch_norm):
  """The companion loss of the feature-adversarial control is above the
  unperturbed control's on the same state, and its update differs."""
  clf = classifiers.TripleGANCNN(K, dropout_rate=0.0)
  common = dict(classifier=clf, classifier_tx=optax.sgd(1e-2), num_classes=K,
                companion_weight=1.0, companion_batch_norm=batch_norm)
  plain = ERM(**common)
  worst = ERM(**common, companion_noise_rms=0.5,
              companion_perturbation="feature_adversarial")
  rng = np.random.default_rng(0)
  image = lambda: jnp.asarray(rng.uniform(-1, 1, (8, 32, 32, 1)), jnp.float32)
  labels = jnp.asarray(np.arange(8) % K, jnp.int32)
  batch = {"image": image(), "label": labels[::-1],
           "balanced_image": image(), "balanced_label": labels}
  state = plain.init(jax.random.PRNGKey(0), (32, 32, 1))
  a, m_plain = jax.jit(plain.train_step)(state, batch)
  b, m_worst = jax.jit(worst.train_step)(state, batch)
  # Same real rows, same dropout: the loss differs by the companion CE.
  assert float(m_worst["c_loss"]) > float(m_plain["c_loss"]) + 1e-3
  np.testing.assert_allclose(m_worst["c_acc_real"], m_plain["c_acc_real"])
  assert not np.allclose(a.classifier.params["Dense_0"]["kernel"],
                         b.classifier.params["Dense_0"]["kernel"])
  # BatchNorm's running statistics come from the same rows either way.
  jax.tree.map(lambda u, v: np.testing.assert_allclose(u, v, rtol=1e-5,
                                                       atol=1e-6),
               a.classifier.batch_stats, b.classifier.batch_stats)


def test_an_unknown_kind_is_refused():
  with pytest.raises(ValueError, match="kind must be one of"):
    head_input_perturbation(K, jnp.zeros(2, jnp.int32), 0.1, "pixels",
                            jax.random.PRNGKey(0))


def test_radius_check_of_a_finished_run(finished_run):
  """launch/feature_radius_check.py: at radius 0 both kinds score what the
  unperturbed classifier scores; the adversarial move raises the CE."""
  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  _, workdir, _ = finished_run
  out = subprocess.run(
      [sys.executable, os.path.join(root, "launch", "feature_radius_check.py"),
       f"--workdir={workdir}", "--images=32", "--radii=0,1"],
      capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=root),
      check=False)
  assert out.returncode == 0, out.stderr[-2000:]
  scores = {m.group(1).strip(): (float(m.group(2)), float(m.group(3)))
            for m in re.finditer(r"^(.+?)\s+accuracy\s+([\d.]+)%\s+CE ([\d.]+)$",
                                 out.stdout, re.M)}
  clean = scores["unperturbed"]
  assert scores["feature_random 0.0"] == clean
  assert scores["feature_adversarial 0.0"] == clean
  assert scores["feature_adversarial 1.0"][1] > clean[1]
  # A step the run does not keep is a one-line error naming those it does.
  missing = subprocess.run(
      [sys.executable, os.path.join(root, "launch", "feature_radius_check.py"),
       f"--workdir={workdir}", "--step=999999"],
      capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=root),
      check=False)
  assert missing.returncode != 0
  assert "no checkpoint of step 999999" in missing.stderr


def test_class_radius_scale_follows_the_power_law_with_mean_one():
  from wcgen.methods.feature_space import class_radius_scale
  counts = [5700, 736, 265, 57]
  scale = class_radius_scale(counts, 0.25)
  np.testing.assert_allclose(scale.mean(), 1.0, rtol=1e-6)
  # n^-1/4: the ratio of two classes' radii is (n_a / n_b)^-1/4.
  np.testing.assert_allclose(scale[3] / scale[0], (57 / 5700) ** -0.25,
                             rtol=1e-5)
  assert np.all(np.diff(scale) > 0)  # rarer, larger
  np.testing.assert_array_equal(class_radius_scale(counts, 0.0), 1.0)
  with pytest.raises(ValueError, match="positive"):
    class_radius_scale([10, 0, 3], 0.25)


def test_per_row_sizes_give_each_row_its_own_norm():
  """A size per row: ||delta_i|| = size_i * ||h_i||, through the same
  identity-kernel head as the scalar case."""
  h = jnp.asarray(np.random.default_rng(0).normal(size=(6, K)), jnp.float32)
  sizes = jnp.asarray([0.1, 0.2, 0.3, 0.4, 0.5, 0.0], jnp.float32)
  variables = {"params": {"kernel": jnp.eye(K), "bias": jnp.zeros(K)}}
  for kind in ("feature_random", "feature_adversarial"):
    with nn.intercept_methods(head_input_perturbation(
        K, jnp.arange(6) % K, sizes, kind, jax.random.PRNGKey(1))):
      out = nn.Dense(K).apply(variables, h)
    np.testing.assert_allclose(np.linalg.norm(np.asarray(out - h), axis=-1),
                               sizes * np.linalg.norm(h, axis=-1),
                               rtol=1e-5, atol=1e-7)


def test_seed_control_with_a_radius_power_uses_each_class_radius():
  """companion_radius_power spreads the radius by class: the step equals
  one whose interceptor is handed the per-row sizes by hand, and differs
  from the one-radius step; power 0 is the one-radius step bit for bit."""
  clf = classifiers.TripleGANCNN(K, dropout_rate=0.0)
  counts = (400, 100, 25, 4)
  common = dict(classifier=clf, classifier_tx=optax.sgd(1e-2), num_classes=K,
                companion_weight=1.0, companion_noise_rms=0.5,
                companion_perturbation="feature_adversarial",
                class_counts=counts)
  rng = np.random.default_rng(0)
  image = lambda: jnp.asarray(rng.uniform(-1, 1, (8, 32, 32, 1)), jnp.float32)
  labels = jnp.asarray(np.arange(8) % K, jnp.int32)
  batch = {"image": image(), "label": labels[::-1],
           "balanced_image": image(), "balanced_label": labels}
  uniform = ERM(**common)
  spread = ERM(**common, companion_radius_power=0.25)
  state = uniform.init(jax.random.PRNGKey(0), (32, 32, 1))
  _, m_uniform = jax.jit(uniform.train_step)(state, batch)
  _, m_zero = jax.jit(ERM(**common, companion_radius_power=0.0).train_step)(
      state, batch)
  _, m_spread = jax.jit(spread.train_step)(state, batch)
  assert float(m_zero["c_loss"]) == float(m_uniform["c_loss"])
  assert abs(float(m_spread["c_loss"]) - float(m_uniform["c_loss"])) > 1e-4
  # The same real rows (no dropout), so the two steps' losses differ by
  # the companion CE alone: computed outside the step (own-statistics
  # mode, the companion batch in its own training-mode pass), once with
  # the per-class sizes by hand and once with the one radius.
  def companion_ce(size):
    with nn.intercept_methods(head_input_perturbation(
        K, labels, size, "feature_adversarial", jax.random.PRNGKey(0))):
      logits, _ = clf.apply(state.classifier.variables,
                            batch["balanced_image"], train=True,
                            mutable=["batch_stats"])
    return float(optax.softmax_cross_entropy_with_integer_labels(
        logits, labels).mean())
  weights = np.asarray(counts, np.float64) ** -0.25
  sizes = 0.5 * weights / weights.mean()
  np.testing.assert_allclose(
      float(m_spread["c_loss"]) - float(m_uniform["c_loss"]),
      companion_ce(jnp.asarray(sizes[np.asarray(labels)], jnp.float32))
      - companion_ce(0.5), rtol=1e-3, atol=1e-5)
  with pytest.raises(ValueError, match="class_counts"):
    jax.jit(ERM(**{**common, "class_counts": None},
                companion_radius_power=0.25).train_step)(state, batch)
