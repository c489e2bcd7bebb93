"""NaN/Inf gradients: each update is skipped and counted; past the limit
the run stops with one line and the last checkpoint stays intact."""

import os

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from wcgen import methods
from wcgen.errors import DivergedError
from wcgen.methods.erm import ERM
from wcgen.models import classifiers
from wcgen.core import state as state_lib
from wcgen.train import trainer


def _batch(value=None):
  rng = np.random.default_rng(0)
  image = rng.uniform(-1, 1, (8, 32, 32, 1)).astype(np.float32)
  if value is not None:
    image[0, 0, 0, 0] = value
  return {"image": jnp.asarray(image), "label": jnp.arange(8) % 4}


def test_nonfinite_update_is_skipped_counted_and_leaves_player_unchanged():
  erm = ERM(classifiers.TripleGANCNN(4, dropout_rate=0.0),
            state_lib.skip_nonfinite(optax.adam(1e-2)), 4)
  state = erm.init(jax.random.PRNGKey(0), (32, 32, 1))
  step = jax.jit(erm.train_step)
  before = jax.device_get(state.classifier)
  state, _ = step(state, _batch(np.nan))
  after = jax.device_get(state.classifier)
  for a, b in zip(jax.tree.leaves((before.params, before.batch_stats)),
                  jax.tree.leaves((after.params, after.batch_stats))):
    np.testing.assert_array_equal(a, b)
  assert int(state_lib.skipped_updates(state)["classifier"]) == 1
  state, _ = step(state, _batch(np.inf))
  assert int(state_lib.skipped_updates(state)["classifier"]) == 2
  state, _ = step(state, _batch())  # a finite batch updates again
  assert int(state_lib.skipped_updates(state)["classifier"]) == 2
  changed = jax.device_get(state.classifier.params)
  assert any(not np.array_equal(a, b) for a, b in
             zip(jax.tree.leaves(before.params), jax.tree.leaves(changed)))
  assert all(np.isfinite(x).all() for x in jax.tree.leaves(changed))


def test_driver_stops_past_the_limit_and_keeps_the_last_checkpoint(
    tiny_config, tmp_path, monkeypatch):
  """Images turn NaN from step 3 on (steps are 1-based in the driver)."""
  create = methods.create

  def poisoned(*args, **kwargs):
    method = create(*args, **kwargs)
    clean_step = method.train_step

    def train_step(state, batch):
      bad = jnp.where(state.step >= 2, jnp.nan, 1.0)
      return clean_step(state, dict(batch, image=batch["image"] * bad))

    object.__setattr__(method, "train_step", train_step)
    return method

  monkeypatch.setattr(methods, "create", poisoned)
  tiny_config.method.name = "erm"
  tiny_config.schedule.max_skipped_updates = 1
  with pytest.raises(DivergedError) as info:
    trainer.train_and_evaluate(tiny_config, str(tmp_path))
  message = str(info.value)
  assert "\n" not in message
  assert "2 updates with NaN/Inf gradients skipped (classifier 2)" in message
  assert "steps 3-4" in message and "checkpoint of step 2 is intact" in message
  assert sorted(os.listdir(tmp_path / "checkpoints")) == ["2"]
  assert not os.path.exists(tmp_path / "results.json")
