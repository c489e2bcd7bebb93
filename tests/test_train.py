"""End to end on small files in the real IDX format, and exact resume."""

import json
import os
import shutil
import subprocess
import sys

import jax
import matplotlib.image
import numpy as np

from wcgen import methods
from wcgen.core import checkpointing
from wcgen.core import image_grid
from wcgen.core import files

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _restore(config, workdir, step):
  """The checkpoint of `step`, restored into a differently seeded state."""
  method = methods.create(config, 10, 1)  # no class counts to evaluate
  target = method.init(jax.random.PRNGKey(1234), (32, 32, 1))
  ckpt = checkpointing.Checkpointer(os.path.join(workdir, "checkpoints"))
  assert ckpt.latest_step == step
  state = ckpt.restore_or(target)
  ckpt.close()
  return jax.device_get(state)


def test_run_writes_every_artifact_with_finite_values(finished_run):
  config, workdir, results = finished_run
  rows = files.read_jsonl(os.path.join(workdir, "metrics.jsonl"))
  train_rows = [r for r in rows if "g_loss" in r]
  eval_rows = [r for r in rows if "val_accuracy" in r]
  assert [r["step"] for r in train_rows] == [2, 4]
  assert [r["step"] for r in eval_rows] == [2, 4]
  # The test set is read once, at the end; evaluations score validation.
  assert [r["step"] for r in rows if "test_accuracy" in r] == [4]
  for row in rows:
    assert all(np.isfinite(v) for v in row.values())
  assert sorted(os.listdir(os.path.join(workdir, "checkpoints"))) == ["2", "4"]
  grid = matplotlib.image.imread(
      os.path.join(workdir, "samples", "step_0000004.png"))
  # One row per class of 32-pixel images with 1-pixel gaps, enlarged, and
  # the class names in a margin on the left.
  scale = image_grid.PNG_SCALE
  assert grid.shape[0] == scale * (10 * 33 + 1)
  assert grid.shape[1] > scale * (config.schedule.samples_per_class * 33 + 1)
  with open(os.path.join(workdir, "results.json")) as f:
    saved = json.load(f)
  assert saved["test_accuracy"] == results.test_accuracy
  assert 0.0 <= saved["test_accuracy"] <= 1.0
  assert len(saved["test_per_class_accuracy"]) == 10
  assert saved["steps"] == 4 and saved["seed"] == config.seed
  # 2 images per class held out for validation, then imbalance factor 2
  # on the 22 left per class: 22 ... 11.
  assert saved["train_class_counts"][0] == 22
  assert saved["train_class_counts"][-1] == 11
  assert saved["validation_images"] == 20
  assert 0.0 <= saved["val_accuracy"] <= 1.0
  assert any(n.startswith("events.out.tfevents") for n in os.listdir(workdir))


def test_resume_in_a_new_process_is_bitwise_equal(finished_run):
  config, workdir, _ = finished_run
  resumed = workdir + "_resumed"
  shutil.copytree(workdir, resumed)
  shutil.rmtree(os.path.join(resumed, "checkpoints", "4"))
  os.remove(os.path.join(resumed, "results.json"))
  cmd = [
      sys.executable, os.path.join(REPO, "launch", "main.py"),
      "--config=" + os.path.join(REPO, "configs", "fmnist_wgan.py") + ":tiny",
      f"--workdir={resumed}", "--cpu_devices=1",
      f"--config.data.data_dir={config.data.data_dir}",
      f"--config.data.tfds_dir={config.data.tfds_dir}",
  ]
  proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "Resuming at step 2" in proc.stderr
  uninterrupted = _restore(config, workdir, 4)
  restarted = _restore(config, resumed, 4)
  leaves_a = jax.tree_util.tree_leaves_with_path(uninterrupted)
  leaves_b = jax.tree_util.tree_leaves_with_path(restarted)
  assert len(leaves_a) == len(leaves_b) > 20
  for (path, a), (_, b) in zip(leaves_a, leaves_b):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b),
                                  err_msg=jax.tree_util.keystr(path))
  # The metrics file of the resumed run equals the uninterrupted one.
  assert (files.read_jsonl(os.path.join(resumed, "metrics.jsonl")) ==
          files.read_jsonl(os.path.join(workdir, "metrics.jsonl")))


def test_sample_grid_png_names_each_row_by_its_class(tmp_path):
  """Saved sample grids carry the class names left of their rows (the raw
  grid, for TensorBoard, has none): text pixels appear in the margin at
  every row's height, and nowhere in the margin without labels."""
  import matplotlib.image  # pylint: disable=g-import-not-at-top
  images = np.full((3 * 4, 8, 8, 1), 1.0, np.float32)  # white tiles
  grid = image_grid.make_grid(images, rows=3)
  path = str(tmp_path / "grid.png")
  image_grid.save_labelled_png(path, grid, ["Ankle boot", "Bag", "Shirt"])
  png = matplotlib.image.imread(path)[..., :3].mean(-1)  # [H, W] in [0, 1]
  height, width = png.shape
  assert height == grid.shape[0] * 3
  margin = png[:, :width - grid.shape[1] * 3]
  assert margin.shape[1] > 0
  dark_rows = np.flatnonzero(margin.min(axis=1) < 0.5)
  for r in range(3):  # text at each row's band of the picture
    band = (r * height // 3, (r + 1) * height // 3)
    assert np.any((dark_rows >= band[0]) & (dark_rows < band[1])), r
  # The images themselves are untouched (white tiles on a white pad).
  assert png[:, width - grid.shape[1] * 3:].min() > 0.9


def test_console_filter_drops_library_chatter_only():
  """cli's console filter: INFO lines from orbax, TensorFlow and JAX's
  backend probing go; wcgen's INFO lines and every warning stay."""
  import logging  # pylint: disable=g-import-not-at-top
  from wcgen import cli  # pylint: disable=g-import-not-at-top
  keep = cli._QuietLibraries().filter  # pylint: disable=protected-access

  def record(path, level=logging.INFO):
    return logging.LogRecord("absl", level, path, 1, "msg", (), None)

  site = "/usr/lib/python3.11/site-packages"
  assert not keep(record(f"{site}/jax/_src/xla_bridge.py"))
  assert not keep(record(f"{site}/orbax/checkpoint/manager.py"))
  assert not keep(record(f"{site}/tensorflow/python/data/ops.py"))
  assert keep(record(f"{site}/jax/_src/xla_bridge.py", logging.WARNING))
  assert keep(record("/work/wcgen/train/trainer.py"))
