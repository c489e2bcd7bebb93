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
import io
import json
import os
from typing import Any, Dict, List, Sequence

import jax
import jax.numpy as jnp
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


def was_test_read(workdir: str) -> bool:
  """Whether the finished run in `workdir` has had its clean test split
  read: by the driver at the end of training, or since by sweep --final
  (kept in posthoc/test.json). Scoring it again is then no first reading
  of the test set."""
  finished = results_lib.read(os.path.join(workdir, "results.json"))
  return (finished.test_accuracy is not None or
          _kept(_path(workdir, "test", {}), finished.steps, {}) is not None)


def _loaded(workdir: str, split: str):
  """(config, method, state on the mesh, data, mesh, post-hoc logit offset)
  of the finished run in `workdir`, for scoring `split`."""
  config, method, state = features.load_run(workdir)
  data = input_pipeline.create_datasets(config.data)
  if split == "validation" and not data.has_validation:
    raise ConfigError(f"{workdir} was trained without a validation split "
                      "(data.validation_per_class=0); score the test split")
  mesh = mesh_lib.make_mesh()
  state = jax.device_put(state, NamedSharding(mesh, P()))
  offset = np.asarray(classification_losses.posthoc_offset(
      config.loss.posthoc_tau, data.train_class_counts))
  return config, method, state, data, mesh, offset


def correct_per_image(workdir: str, split: str = "validation") -> np.ndarray:
  """[n] bool: which images of the clean `split` the finished run's final
  classifier gets right, in the split's fixed order (the same order for
  every run of the same data config), kept in WORKDIR/posthoc/ with its
  step. Two runs' flags on the same images give a difference of their
  accuracies with the split's own sampling error (experiments.paired):
  the error a fixed validation split adds to every comparison made on
  it, which averaging over training seeds does not remove.

  The test split is only scored here for a run whose test set was already
  read (at the end of training, or by sweep --final into
  posthoc/test.json): this never makes a first reading of the test set."""
  if split not in SPLITS:
    raise ConfigError(f"split must be one of {SPLITS}, got {split!r}")
  finished = results_lib.read(os.path.join(workdir, "results.json"))
  step = finished.steps
  path = os.path.join(workdir, "posthoc", f"{split}_correct.npz")
  try:
    with np.load(path) as kept:
      if int(kept["step"]) == step:
        return kept["correct"]
  except (OSError, ValueError, KeyError):
    pass  # none yet, or unreadable: score again (and rewrite it whole)
  if split == "test" and not was_test_read(workdir):
    raise ConfigError(f"{workdir}: its test set has not been read; choose "
                      "it on validation and read it once with sweep "
                      "--final before comparing it image by image there")
  config, method, state, data, mesh, offset = _loaded(workdir, split)
  hit_fn = jax.jit(
      lambda s, b: (jnp.argmax(method.classifier_logits(s, b["image"])
                               - offset, -1) == b["label"], b["mask"]),
      in_shardings=(NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))),
      out_shardings=NamedSharding(mesh, P()))
  hits = []
  for batch in data.eval_iterator(config.schedule.eval_batch_size,
                                  NamedSharding(mesh, P("data")), False,
                                  split):
    hit, mask = (np.asarray(a) for a in hit_fn(state, batch))
    hits.append(hit[mask.astype(bool)])
  correct = np.concatenate(hits)
  if jax.process_index() == 0:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, correct=correct, step=step)
    files.atomic_write_bytes(path, buffer.getvalue())
  return correct


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

  config, method, state, data, mesh, offset = _loaded(workdir, split)
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
