"""A finished run's classifier on distorted copies of an evaluation split.

Tables 2-3 train on clean images and test on distorted copies of the test
set. The distortion changes nothing in training, so one training run
serves every distortion column: `score_distorted` evaluates the run's
final classifier with the distortion fields of config.data set (or none:
the clean split), on the test split (a table's final figure) or the
validation split (robustness measured while choices are still being
made), and keeps each figure in WORKDIR/posthoc/ with the step it scored,
so asking again reads it back.
"""

import dataclasses
import json
import os
from typing import Any, Dict, List, Sequence

import jax
from jax.sharding import NamedSharding, PartitionSpec as P
import numpy as np

from wcgen import classification_losses
from wcgen.core import files
from wcgen.core import mesh as mesh_lib
from wcgen.core import results as results_lib
from wcgen.data import distortions as distortions_lib
from wcgen.data import input_pipeline
from wcgen.errors import ConfigError, DataError
from wcgen.eval import accuracy
from wcgen.eval import features
from wcgen.train import trainer

# The config.data fields that change only the evaluated images.
TEST_ONLY_FIELDS = ("data.test_distortion", "data.test_distortion_level",
                    "data.test_distortion_fraction")
SPLITS = ("test", "validation")


def _path(workdir: str, split: str, overrides: Dict[str, Any]) -> str:
  return os.path.join(workdir, "posthoc", ",".join(
      [split] + [f"{k.split('.', 1)[1]}={overrides[k]}"
                 for k in sorted(overrides)]) + ".json")


def _kept(path: str, step: int, overrides: Dict[str, Any]):
  """The figure kept at `path` if it scored `step` with `overrides`."""
  try:
    with open(path) as f:
      kept = json.load(f)
    if kept.get("step") == step and kept.get("overrides") == overrides:
      return kept
  except (OSError, ValueError, AttributeError):
    pass  # none yet, or unreadable: score again (and rewrite it whole)
  return None


def score_distorted(workdir: str, distortions: Sequence[Dict[str, Any]],
                    split: str = "test") -> List[Dict[str, Any]]:
  """For each of `distortions` (config.data overrides such as
  {"data.test_distortion": "gaussian", "data.test_distortion_level": 0.3};
  {} is the clean split), {"split", "accuracy", "per_class_accuracy",
  "distortion", "step", "overrides"} of the finished run in `workdir` on
  that distorted copy of `split`. The run and its data are loaded once for
  all of them.

  The clean test split scored here is the figure the driver's
  `schedule.evaluate_test` would have given: a run trained without reading
  the test set, chosen on validation, reads it here once (sweep --final)
  instead of training again; the kept file records that it was read."""
  if split not in SPLITS:
    raise ConfigError(f"split must be one of {SPLITS}, got {split!r}")
  for overrides in distortions:
    other = sorted(set(overrides) - set(TEST_ONLY_FIELDS))
    if other:
      raise ConfigError(f"{other} change training, not only the evaluated "
                        f"images; a trained run can be scored again with "
                        f"{list(TEST_ONLY_FIELDS)} only")
  finished = os.path.join(workdir, "results.json")
  if not os.path.exists(finished):
    raise DataError(f"{workdir} holds no finished run (no results.json); "
                    "train it first")
  step = results_lib.read(finished).steps
  paths = [_path(workdir, split, o) for o in distortions]
  out = [_kept(p, step, dict(o)) for p, o in zip(paths, distortions)]
  if all(r is not None for r in out):
    return out

  config, method, state = features.load_run(workdir)
  data = input_pipeline.create_datasets(config.data)
  if split == "validation" and not data.has_validation:
    raise ConfigError(f"{workdir} was trained without a validation split "
                      "(data.validation_per_class=0); score the test split")
  mesh = mesh_lib.make_mesh()
  state = jax.device_put(state, NamedSharding(mesh, P()))
  offset = np.asarray(classification_losses.posthoc_offset(
      config.loss.posthoc_tau, data.train_class_counts))
  count_fn = trainer.correct_counts_fn(method, offset, data.num_classes, mesh)
  for i, overrides in enumerate(distortions):
    if out[i] is not None:
      continue
    data_config = config.data.copy_and_resolve_references()
    data_config.update_from_flattened_dict(
        {k.split(".", 1)[1]: v for k, v in overrides.items()})
    distorted = dataclasses.replace(
        data, distortion=distortions_lib.from_config(data_config))
    if overrides and not distorted.distortion.active:
      raise ConfigError(f"{overrides} distort no image; give "
                        "data.test_distortion (gaussian or salt_pepper)")
    scored = accuracy.evaluate(
        count_fn, state,
        distorted.eval_iterator(config.schedule.eval_batch_size,
                                NamedSharding(mesh, P("data")),
                                bool(overrides), split),
        data.num_classes)
    out[i] = {"split": split, "overrides": dict(overrides), "step": step,
              "accuracy": scored["accuracy"],
              "per_class_accuracy": scored["per_class_accuracy"],
              "distortion": dataclasses.asdict(distorted.distortion)}
    if jax.process_index() == 0:
      files.atomic_write_json(paths[i], out[i])
  return out
