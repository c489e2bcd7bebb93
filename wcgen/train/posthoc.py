"""A finished run's classifier on test sets it was not trained for.

Tables 2-3 train on clean images and test on distorted copies of the test
set. The distortion changes nothing in training, so one training run
serves every distortion column: `test_with` evaluates the run's final
classifier with the distortion fields of config.data set, and keeps the
figures in WORKDIR/posthoc/ (one file per distortion, with the step it
scored), so a table that asks again reads them back.
"""

import dataclasses
import json
import os
from typing import Any, Dict

import jax
from jax.sharding import NamedSharding, PartitionSpec as P
import numpy as np

from wcgen import classification_losses
from wcgen.core import files
from wcgen.core import results as results_lib
from wcgen.data import input_pipeline
from wcgen.errors import ConfigError, DataError
from wcgen.eval import accuracy
from wcgen.eval import features
from wcgen.train import trainer

# The config.data fields that change only the test set.
TEST_ONLY_FIELDS = ("data.test_distortion", "data.test_distortion_level",
                    "data.test_distortion_fraction")


def _file_name(overrides: Dict[str, Any]) -> str:
  return ",".join(f"{k.split('.', 1)[1]}={overrides[k]}"
                  for k in sorted(overrides)) + ".json"


def test_with(workdir: str, overrides: Dict[str, Any]) -> Dict[str, Any]:
  """{"test_distorted_accuracy", "test_distorted_per_class_accuracy",
  "test_distortion", "step"} of the finished run in `workdir` on its test
  set distorted as `overrides` ({"data.test_distortion": "gaussian",
  "data.test_distortion_level": 0.3, ...}) says. Read back from
  WORKDIR/posthoc/ when that run's final step was scored so before."""
  other = sorted(set(overrides) - set(TEST_ONLY_FIELDS))
  if other:
    raise ConfigError(f"{other} change training, not only the test set; "
                      f"a trained run can be re-tested with "
                      f"{list(TEST_ONLY_FIELDS)} only")
  finished = os.path.join(workdir, "results.json")
  if not os.path.exists(finished):
    raise DataError(f"{workdir} holds no finished run (no results.json); "
                    "train it first")
  steps = results_lib.read(finished).steps
  path = os.path.join(workdir, "posthoc", _file_name(overrides))
  try:
    with open(path) as f:
      kept = json.load(f)
    if kept.get("step") == steps and kept.get("overrides") == overrides:
      return kept
  except (OSError, ValueError, AttributeError):
    pass  # none yet, or unreadable: score again (and rewrite it whole)

  config, method, state = features.load_run(workdir)
  data_config = config.data.copy_and_resolve_references()
  data_config.update_from_flattened_dict(
      {k.split(".", 1)[1]: v for k, v in overrides.items()})
  data = input_pipeline.create_datasets(data_config)
  if not data.distortion.active:
    raise ConfigError(f"{overrides} distort no test image; give "
                      "data.test_distortion and a level > 0")
  mesh = trainer.make_mesh()
  state = jax.device_put(state, NamedSharding(mesh, P()))
  offset = np.asarray(classification_losses.posthoc_offset(
      config.loss.posthoc_tau, data.train_class_counts))
  count_fn = trainer.correct_counts_fn(method, offset, data.num_classes, mesh)
  scored = accuracy.evaluate(
      count_fn, state,
      data.eval_iterator(config.schedule.eval_batch_size,
                         NamedSharding(mesh, P("data")), True, "test"),
      data.num_classes)
  result = {"overrides": dict(overrides), "step": steps,
            "test_distorted_accuracy": scored["accuracy"],
            "test_distorted_per_class_accuracy": scored["per_class_accuracy"],
            "test_distortion": dataclasses.asdict(data.distortion)}
  if jax.process_index() == 0:
    files.atomic_write_json(path, result)
  return result
