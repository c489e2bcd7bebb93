"""A finished run re-tested on a distorted test set (Tables 2-3's columns
share one clean training run) scores what the run itself scores when its
config carries the distortion; on the clean split, what the driver read."""

import json
import os

import pytest

from wcgen.errors import ConfigError, DataError
from wcgen.experiments import grid
from wcgen.experiments import tables
from wcgen.train import posthoc
from wcgen.train import trainer

GAUSS = {"data.test_distortion": "gaussian", "data.test_distortion_level": 0.5}


def test_rescore_equals_the_run_trained_with_the_distortion(tiny_config,
                                                            tmp_path):
  """Second path: the same config with the distortion set trains the same
  classifier (the distortion touches only the evaluated images) and scores
  the distorted test set in the driver; both figures must agree exactly.
  The validation split is scored the same way, kept apart."""
  tiny_config.method.name = "erm"
  tiny_config.schedule.num_train_steps = 40  # long enough to learn classes
  tiny_config.schedule.eval_every_steps = 20
  tiny_config.schedule.checkpoint_every_steps = 20
  clean = str(tmp_path / "clean")
  trained = trainer.train_and_evaluate(tiny_config, clean)
  salt = {"data.test_distortion": "salt_pepper",
          "data.test_distortion_level": 0.3}
  rescored, salted, undistorted = posthoc.score_distorted(
      clean, [GAUSS, salt, {}])
  # {}: the clean test split, the figure the driver itself read.
  assert undistorted["accuracy"] == trained.test_accuracy
  assert os.path.exists(os.path.join(clean, "posthoc", "test.json"))
  clean_val, = posthoc.score_distorted(clean, [{}], split="validation")
  assert clean_val["accuracy"] == trained.val_accuracy

  distorted_config = tiny_config.copy_and_resolve_references()
  distorted_config.update_from_flattened_dict(GAUSS)
  direct = trainer.train_and_evaluate(distorted_config,
                                      str(tmp_path / "distorted"))
  assert rescored["accuracy"] == direct.test_distorted_accuracy
  assert rescored["distortion"] == direct.test_distortion
  assert rescored["step"] == direct.steps
  # ...and it is not the clean score: σ = 0.5 noise on 70% of the images
  # moves a classifier that has learnt the classes' bands.
  assert rescored["accuracy"] != direct.test_accuracy
  assert salted["distortion"]["kind"] == "salt_pepper"

  # Kept whole under the run, read back (not rescored) when asked again.
  path = os.path.join(clean, "posthoc", "test,test_distortion=gaussian,"
                      "test_distortion_level=0.5.json")
  with open(path) as f:
    kept = json.load(f)
  kept["accuracy"] = -1.0  # a marker only a read-back returns
  with open(path, "w") as f:
    json.dump(kept, f)
  assert posthoc.score_distorted(clean, [GAUSS])[0]["accuracy"] == -1.0

  # The validation split: its own file, its own figure, in [0, 1].
  val, = posthoc.score_distorted(clean, [GAUSS], split="validation")
  assert val["split"] == "validation" and 0 <= val["accuracy"] <= 1
  assert os.path.exists(os.path.join(
      clean, "posthoc", "validation,test_distortion=gaussian,"
      "test_distortion_level=0.5.json"))

  with pytest.raises(ConfigError, match="change training"):
    posthoc.score_distorted(clean, [{"data.imbalance_factor": 3.0}])
  with pytest.raises(DataError, match="train it first"):
    posthoc.score_distorted(str(tmp_path / "none"), [GAUSS])


def test_distorted_columns_share_their_normal_columns_runs():
  """Every distorted column of Tables 2, 3 and the Fashion-MNIST stand-in
  trains as its dataset's Normal column (same cell config, same run
  directory) and differs from it only in its test-only fields."""
  from wcgen.experiments import registry  # pylint: disable=g-import-not-at-top
  for table in (tables.TABLE2, tables.TABLE3, tables.TABLE2_FMNIST):
    distorted = [c for c in table.columns if c.test_only]
    assert distorted, table.id
    row = table.rows[0]
    for column in distorted:
      assert set(column.test_only) <= set(posthoc.TEST_ONLY_FIELDS)
      normal = tables.Column(column.run_id, "", column.dataset,
                             tables._normal(column.dataset, "").overrides)  # pylint: disable=protected-access
      base = registry.base_config(column.dataset, "smoke")
      assert (grid.cell_config(base, row, column, 0).to_dict() ==
              grid.cell_config(base, row, normal, 0).to_dict())
      assert (grid.run_dir("w", table, row, column, 0, "smoke") ==
              grid.run_dir("w", table, row, normal, 0, "smoke"))


def test_correct_per_image_scores_what_the_split_accuracy_counts(
    finished_run, tmp_path):
  """Second path: the per-image flags' mean is the accuracy the counting
  path (score_distorted, the driver's) gives on the same split; they are
  kept and read back; the test split is refused until --final has read
  it once."""
  import shutil  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  _, run, finished = finished_run
  workdir = str(tmp_path / "run")
  shutil.copytree(run, workdir, ignore=shutil.ignore_patterns("posthoc"))
  # As a sweep trains it: the test set not read at the end of training.
  results = os.path.join(workdir, "results.json")
  with open(results) as f:
    record = json.load(f)
  record["test_accuracy"] = None
  with open(results, "w") as f:
    json.dump(record, f)
  val = posthoc.correct_per_image(workdir, "validation")
  assert val.dtype == bool and val.size == 20  # 2 images x 10 classes
  assert val.mean() == pytest.approx(finished.val_accuracy)
  with pytest.raises(ConfigError, match="has not been read"):
    posthoc.correct_per_image(workdir, "test")
  posthoc.score_distorted(workdir, [{}])  # --final's one reading
  test = posthoc.correct_per_image(workdir, "test")
  # A run that read its test set at the end of training needs no --final.
  in_run = str(tmp_path / "read_in_run")
  shutil.copytree(run, in_run, ignore=shutil.ignore_patterns("posthoc"))
  np.testing.assert_array_equal(posthoc.correct_per_image(in_run, "test"),
                                test)
  assert test.mean() == pytest.approx(finished.test_accuracy)
  # Kept with its step and read back, not rescored.
  path = os.path.join(workdir, "posthoc", "validation_correct.npz")
  np.savez_compressed(path, correct=~val, step=finished.steps)
  np.testing.assert_array_equal(
      posthoc.correct_per_image(workdir, "validation"), ~val)
  with pytest.raises(ConfigError, match="split must be"):
    posthoc.correct_per_image(workdir, "train")
