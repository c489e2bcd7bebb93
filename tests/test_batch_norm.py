"""BatchNorm statistics recomputed with fixed weights (wcgen/eval/batch_norm),
checked against numpy, against flax's own running-average update, and on a
finished run's checkpoints against the accuracy the run recorded."""

import json
import os
import subprocess
import sys

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wcgen.eval import batch_norm
from wcgen.models import create_classifier

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class InputNorm(nn.Module):
  """BatchNorm on the raw input: its statistics are the data's."""

  @nn.compact
  def __call__(self, x, train=True):
    return nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)


class Nested(nn.Module):
  """Two blocks, each conv + BatchNorm, so the statistics tree is nested."""

  @nn.compact
  def __call__(self, x, train=True):
    for width in (3, 5):
      x = Block(width)(x, train)
    return jnp.mean(x, (1, 2))


class Block(nn.Module):
  width: int

  @nn.compact
  def __call__(self, x, train=True):
    x = nn.Conv(self.width, (3, 3))(x)
    return nn.relu(nn.BatchNorm(use_running_average=not train,
                                momentum=0.9)(x))


def _images(seed, n=6, channels=2):
  rng = np.random.default_rng(seed)
  return jnp.asarray(rng.normal(1.5, 2.0, (n, 4, 4, channels)), jnp.float32)


def test_statistics_of_an_input_norm_are_the_batch_mean_and_biased_var():
  model, x = InputNorm(), _images(0)
  variables = model.init(jax.random.PRNGKey(0), x)
  stats = batch_norm.batch_statistics(model, variables, x)
  data = np.asarray(x).reshape(-1, 2)
  np.testing.assert_allclose(stats["BatchNorm_0"]["mean"], data.mean(0),
                             rtol=1e-5)
  np.testing.assert_allclose(stats["BatchNorm_0"]["var"], data.var(0),
                             rtol=1e-4)


@pytest.mark.parametrize("model", [
    Nested(), create_classifier("triple_gan_cnn", 10, dropout_rate=0.0)])
def test_statistics_match_flax_own_running_average_update(model):
  """Second path: flax updates ra = 0.9 ra + 0.1 batch, so the batch's own
  statistics are (new - 0.9 old) / 0.1, layer by layer."""
  x = _images(1, n=8, channels=1)
  variables = model.init(jax.random.PRNGKey(0), x)
  old = jax.tree.map(lambda a: a + 0.3, variables["batch_stats"])
  variables = dict(variables, batch_stats=old)
  _, mutated = model.apply(variables, x, train=True, mutable=["batch_stats"])
  expected = jax.tree.map(lambda new, o: (new - 0.9 * o) / 0.1,
                          mutated["batch_stats"], old)
  got = batch_norm.batch_statistics(model, variables, x)
  assert jax.tree.structure(got) == jax.tree.structure(expected)
  for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
    np.testing.assert_allclose(a, b, rtol=2e-3, atol=2e-4)


def test_precise_stats_of_equal_batches_average_their_statistics():
  """The mean of equal-sized batch means is the mean of all the data; the
  variance is the mean of the batches' own (biased) variances."""
  model = InputNorm()
  batches = [_images(s) for s in (2, 3, 4)]
  variables = model.init(jax.random.PRNGKey(0), batches[0])
  stats = batch_norm.precise_batch_stats(model, variables, batches,
                                         jax.random.PRNGKey(0))
  data = [np.asarray(b).reshape(-1, 2) for b in batches]
  np.testing.assert_allclose(stats["BatchNorm_0"]["mean"],
                             np.concatenate(data).mean(0), rtol=1e-5)
  np.testing.assert_allclose(stats["BatchNorm_0"]["var"],
                             np.mean([d.var(0) for d in data], 0), rtol=1e-4)


def test_one_batch_statistics_make_inference_mode_equal_training_mode():
  """With the statistics of one batch in place of the running ones, the
  network in inference mode computes what it computes on that batch in
  training mode (no dropout): every layer's statistics are the ones that
  layer normalises by."""
  model, x = Nested(), _images(5, n=8, channels=1)
  variables = model.init(jax.random.PRNGKey(0), x)
  stats = batch_norm.precise_batch_stats(model, variables, [x],
                                         jax.random.PRNGKey(0))
  train_out, _ = model.apply(variables, x, train=True,
                             mutable=["batch_stats"])
  eval_out = model.apply(dict(variables, batch_stats=stats), x, train=False)
  np.testing.assert_allclose(eval_out, train_out, rtol=1e-3, atol=1e-4)


def test_bad_inputs_are_refused_with_a_clear_error():
  model = Nested()
  variables = model.init(jax.random.PRNGKey(0), _images(0, channels=1))
  with pytest.raises(ValueError, match="at least one batch"):
    batch_norm.precise_batch_stats(model, variables, [],
                                   jax.random.PRNGKey(0))
  other = InputNorm().init(jax.random.PRNGKey(0), _images(0, channels=1))
  with pytest.raises(ValueError, match="do not match"):
    batch_norm.precise_batch_stats(model, dict(variables, batch_stats=other[
        "batch_stats"]), [_images(0, channels=1)], jax.random.PRNGKey(0))


def test_check_of_a_finished_run_reads_its_recorded_accuracy(finished_run):
  """On the last checkpoint, accuracy with the stored statistics is the
  validation accuracy the run itself recorded (a second path: the
  trainer's evaluation)."""
  _, workdir, _ = finished_run
  with open(os.path.join(workdir, "results.json")) as f:
    results = json.load(f)
  env = dict(os.environ, PYTHONPATH=ROOT)
  out = subprocess.run(
      [sys.executable, os.path.join(ROOT, "launch", "batch_norm_check.py"),
       f"--workdir={workdir}", "--batches=3"],
      capture_output=True, text=True, env=env, check=False)
  assert out.returncode == 0, out.stderr[-2000:]
  with open(os.path.join(workdir, "batch_norm_check.json")) as f:
    report = json.load(f)
  rows = report["steps"]
  assert [r["step"] for r in rows] == sorted(r["step"] for r in rows)
  last = rows[-1]
  assert last["step"] == results["steps"]
  assert last["accuracy_stored_stats"] == pytest.approx(
      results["val_accuracy"])
  assert 0.0 <= last["accuracy_recomputed_stats"] <= 1.0
  assert all(v > 0 for v in last["parameter_norms"].values())
  assert "validation acc" in out.stdout


def test_check_refuses_a_workdir_without_a_run(tmp_path):
  env = dict(os.environ, PYTHONPATH=ROOT)
  out = subprocess.run(
      [sys.executable, os.path.join(ROOT, "launch", "batch_norm_check.py"),
       f"--workdir={tmp_path}"],
      capture_output=True, text=True, env=env, check=False)
  assert out.returncode != 0
  assert "no config.json" in out.stderr
