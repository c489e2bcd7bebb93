"""M2m's translation (methods.translation) against its rules by hand, and
in seed_control's step: which rows may be replaced, from which sources,
by what descent, and only when the frozen g is sure."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from wcgen import objectives
from wcgen.methods.erm import ERM
from wcgen.methods.translation import Translation
from wcgen.models import classifiers

K = 4
COUNTS = (400, 100, 20, 5)  # class 0 the largest, class 3 the rarest
SHAPE = (8, 8, 1)


def _batch(n=32, seed=0):
  rng = np.random.default_rng(seed)
  images = jnp.asarray(rng.uniform(-0.8, 0.8, (n,) + SHAPE), jnp.float32)
  return images, jnp.asarray(np.arange(n) % K, jnp.int32)


def _linear(seed):
  """A fixed linear classifier on flattened images: logits = x W."""
  w = jnp.asarray(np.random.default_rng(seed).normal(
      0, 0.3, (int(np.prod(SHAPE)), K)), jnp.float32)
  return lambda x: x.reshape(x.shape[0], -1) @ w


def _sure_of(label):
  """A g that gives `label` probability ~1 to every image."""
  return lambda x: jnp.zeros((x.shape[0], K)).at[:, label].set(50.0)


def test_source_weights_are_m2ms_rule_by_hand():
  labels = jnp.asarray([0, 1, 2, 3, 3], jnp.int32)
  weights = np.asarray(Translation(COUNTS, beta=0.99).source_weights(labels))
  n = np.asarray(COUNTS, np.float64)[np.asarray(labels)]
  expected = 1 - 0.99 ** np.maximum(n[None, :] - n[:, None], 0)
  np.testing.assert_allclose(weights, expected, rtol=1e-5)
  assert (weights[0] == 0).all()  # the largest class has no source
  assert weights[3, 4] == 0 and weights[3, 0] > 0.98  # same / larger class


def test_one_step_is_the_normalised_descent_on_gs_loss_from_a_larger_class():
  """steps=1, no random start, no term of f: each replaced row is its
  source moved by step_rms (per-pixel RMS) against the gradient of g's
  cross-entropy for the row's class, and its source is a larger class."""
  images, labels = _batch()
  g = _linear(1)
  translation = Translation(COUNTS, steps=1, step_rms=0.05, start_rms=0.0,
                            classifier_weight=0.0, threshold=1e-6,
                            beta=0.5)
  out, metrics = translation(jax.random.PRNGKey(0), g, _linear(2), images,
                             labels)
  replaced = np.flatnonzero(np.abs(np.asarray(out - images)).max(
      axis=(1, 2, 3)) > 0)
  assert len(replaced) >= 8
  np.testing.assert_allclose(float(metrics["translation_accepted"]),
                             len(replaced) / len(labels))
  labels_np = np.asarray(labels)
  assert (labels_np[replaced] != 0).all()  # class 0 keeps its rows
  for i in replaced:
    # By hand: the descent from each candidate source j, for row i's label.
    def step_from(j):
      x = images[j:j + 1]
      grad = jax.grad(lambda x: objectives.cross_entropy(
          g(x), labels[i:i + 1]))(x)
      grad = np.asarray(grad)
      return np.clip(np.asarray(x) - 0.05 * grad / np.sqrt(
          np.mean(grad ** 2)), -1, 1)
    sources = [j for j in range(len(labels))
               if np.allclose(step_from(j), np.asarray(out[i:i + 1]),
                              atol=1e-5)]
    assert len(sources) == 1
    assert COUNTS[labels_np[sources[0]]] > COUNTS[labels_np[i]]
    moved = np.asarray(out[i]) - np.asarray(images[sources[0]])
    assert np.sqrt(np.mean(moved ** 2)) <= 0.05 + 1e-5
    # The step lowered g's loss for the row's class.
    ce = lambda x: float(objectives.cross_entropy(g(x), labels[i:i + 1]))
    assert ce(out[i:i + 1]) < ce(images[sources[0]:sources[0] + 1])


def test_only_rows_g_is_sure_of_are_replaced_and_the_rest_kept_bitwise():
  images, labels = _batch()
  f = _linear(2)
  # g sure that everything is class 3: only class-3 rows can pass.
  sure = Translation(COUNTS, steps=2, step_rms=0.01, beta=0.5)
  out, _ = sure(jax.random.PRNGKey(1), _sure_of(3), f, images, labels)
  changed = np.abs(np.asarray(out - images)).max(axis=(1, 2, 3)) > 0
  assert changed.any()
  assert (np.asarray(labels)[changed] == 3).all()
  kept = ~changed
  np.testing.assert_array_equal(np.asarray(out)[kept],
                                np.asarray(images)[kept])
  # A threshold g cannot reach (its logits are bounded): nothing changes.
  never = Translation(COUNTS, steps=2, step_rms=0.01, threshold=1.0)
  out, metrics = never(jax.random.PRNGKey(1), _linear(1), f, images, labels)
  np.testing.assert_array_equal(np.asarray(out), np.asarray(images))
  assert float(metrics["translation_accepted"]) == 0.0
  assert float(metrics["translation_tried"]) > 0.5


def test_the_classifier_term_lowers_fs_logit_of_the_source_class():
  """With g indifferent (constant logits) the descent follows
  classifier_weight * f_{y_source}: the replaced rows score their source
  class lower under f than their sources did."""
  images, labels = _batch()
  f = _linear(2)
  translation = Translation(COUNTS, steps=3, step_rms=0.02, start_rms=0.0,
                            classifier_weight=1.0, threshold=0.2, beta=0.5)
  out, _ = translation(jax.random.PRNGKey(3), lambda x: jnp.zeros(
      (x.shape[0], K)), f, images, labels)
  changed = np.flatnonzero(np.abs(np.asarray(out - images)).max(
      axis=(1, 2, 3)) > 0)
  assert len(changed) >= 4
  for i in changed:
    # Its source: the batch image nearest to it (3 steps of RMS 0.02 move
    # it far less than the images' spacing).
    j = int(np.argmin(np.abs(np.asarray(images - out[i])).mean(
        axis=(1, 2, 3))))
    assert COUNTS[int(labels[j])] > COUNTS[int(labels[i])]
    source_class = int(labels[j])
    assert f(out[i:i + 1])[0, source_class] < f(
        images[j:j + 1])[0, source_class]


def test_translated_control_starts_at_its_step_and_then_replaces_rows():
  """In seed_control's step: before companion_start_step the companion
  batch is the unperturbed control's (the same update); from it on,
  rows are replaced and the step logs how many."""
  clf = classifiers.TripleGANCNN(K, dropout_rate=0.0)
  common = dict(classifier=clf, classifier_tx=optax.sgd(1e-2),
                num_classes=K, companion_weight=1.0, companion_start_step=1)
  plain = ERM(**common)
  translated = ERM(**common, companion_perturbation="translated",
                   translation=Translation(COUNTS, steps=2, beta=0.5),
                   reference_logits_fn=_sure_of(3))
  rng = np.random.default_rng(0)
  labels = jnp.asarray(np.arange(16) % K, jnp.int32)
  batch = {"image": jnp.asarray(rng.uniform(-1, 1, (16, 32, 32, 1)),
                                jnp.float32),
           "label": labels[::-1],
           "balanced_image": jnp.asarray(rng.uniform(-1, 1, (16, 32, 32, 1)),
                                         jnp.float32),
           "balanced_label": labels}
  s0 = plain.init(jax.random.PRNGKey(0), (32, 32, 1))
  plain_step = jax.jit(plain.train_step)
  translated_step = jax.jit(translated.train_step)
  a, _ = plain_step(s0, batch)
  b, metrics = translated_step(s0, batch)
  jax.tree.map(np.testing.assert_array_equal, a.classifier.params,
               b.classifier.params)
  assert float(metrics["translation_accepted"]) == 0.0
  a, plain_metrics = plain_step(a, batch)
  b, metrics = translated_step(b, batch)
  assert 0 < float(metrics["translation_accepted"]) <= 4 / 16  # class 3
  assert float(metrics["c_acc_companion"]) != float(
      plain_metrics["c_acc_companion"]) or float(metrics["c_loss"]) != float(
          plain_metrics["c_loss"])
  assert translated_step._cache_size() == 1  # pylint: disable=protected-access


def test_outcome_counts_are_the_translate_masks_summed_and_the_judges_argmax():
  """outcome_counts by hand from translate's masks: a judge that gives
  every image class 3 agrees exactly on the sure rows labelled 3; without
  a judge it agrees on none; a judge that is g (sure at p >= 0.5, so g's
  argmax) agrees on every sure row."""
  images, labels = _batch()
  translation = Translation(COUNTS, steps=2, step_rms=0.05, threshold=0.5,
                            beta=0.5)
  g, f, key = _linear(1), _linear(2), jax.random.PRNGKey(3)
  out = translation.translate(key, g, f, images, labels)
  sure = np.asarray(out["sure"])
  assert 0 < sure.sum() < np.asarray(out["tried"]).sum()
  counts = translation.outcome_counts(key, g, f, images, labels, _sure_of(3))
  assert float(counts["rows"]) == len(labels)
  for k in ("tried", "sure", "accepted"):
    assert float(counts[k]) == np.asarray(out[k]).sum()
  np.testing.assert_allclose(float(counts["target_prob"]),
                             np.asarray(out["target_prob"]).sum(), rtol=1e-5)
  assert float(counts["judged_target"]) == (
      sure & (np.asarray(labels) == 3)).sum()
  assert float(translation.outcome_counts(
      key, g, f, images, labels)["judged_target"]) == 0
  assert float(translation.outcome_counts(
      key, g, f, images, labels, g)["judged_target"]) == sure.sum()


def test_translation_refuses_bad_settings():
  with pytest.raises(ValueError, match="class_counts must be positive"):
    Translation((10, 0))
  with pytest.raises(ValueError, match="steps must be an integer >= 1"):
    Translation(COUNTS, steps=0)
  with pytest.raises(ValueError, match="needs a translation and a"):
    ERM(classifier=classifiers.TripleGANCNN(K), classifier_tx=optax.sgd(1.0),
        num_classes=K, companion_weight=1.0,
        companion_perturbation="translated")


def test_translated_control_trains_end_to_end_and_the_check_reads_it(
    tiny_data, finished_run, tmp_path):
  """A `:tiny` seed_control run with translated rows, M2m's g the finished
  worst-case run's classifier: it trains (the driver hands the reference
  to the control), logs the translation metrics, and
  launch/translation_check.py reads its checkpoint (g is sure of every
  tried translation at a threshold it always meets, so its grid is drawn;
  the threshold it cannot meet is test_only_rows_g_is_sure_of_...'s)."""
  import json  # pylint: disable=g-import-not-at-top
  import os  # pylint: disable=g-import-not-at-top
  import re  # pylint: disable=g-import-not-at-top
  import subprocess  # pylint: disable=g-import-not-at-top
  import sys  # pylint: disable=g-import-not-at-top
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  from wcgen.train import trainer  # pylint: disable=g-import-not-at-top
  config = fmnist_wgan.get_config("tiny")
  config.data.data_dir, config.data.tfds_dir = tiny_data
  config.update_from_flattened_dict({
      "method.name": "seed_control",
      "method.control_perturbation": "translated",
      "method.reference_run": finished_run[1],
      "method.translation.steps": 2})
  workdir = str(tmp_path / "m2m")
  trainer.train_and_evaluate(config, workdir)
  with open(os.path.join(workdir, "metrics.jsonl")) as f:
    logged = [json.loads(line) for line in f]
  tried = [r["translation_tried"] for r in logged if "translation_tried" in r]
  assert tried and all(0 <= t <= 1 for t in tried)
  assert max(tried) > 0  # after the start step, rows were regenerated

  root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
  grid = tmp_path / "translations.png"

  def check(threshold, *extra):
    out = subprocess.run(
        [sys.executable, os.path.join(root, "launch", "translation_check.py"),
         f"--workdir={workdir}", "--batches=2", "--step_rms=0.05",
         f"--threshold={threshold}", f"--grid={grid}", *extra],
        capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=root),
        check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    line = [l for l in out.stdout.splitlines() if l.startswith("step_rms")]
    assert len(line) == 1, out.stdout
    return line[0]

  def sure_share(line):
    match = re.search(r"tried\s+([\d.]+)% of rows; of those g sure\s+([\d.]+)%",
                      line)
    assert match, line
    assert float(match.group(1)) > 0
    return float(match.group(2))

  own = check(1e-9)
  assert sure_share(own) == 100.0
  # g named explicitly is the run's own g: the same counts, and the judge's
  # share is printed after them (its arithmetic: test_outcome_counts_...).
  line = check(1e-9, f"--reference_run={finished_run[1]}",
               f"--judge_run={finished_run[1]}")
  assert line.startswith(own), (own, line)
  assert re.search(r"judge gives the target to\s+[\d.]+% of g's sure$", line)
  # Every tried row is sure, so the grid has its pairs: a PNG was written.
  assert grid.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
