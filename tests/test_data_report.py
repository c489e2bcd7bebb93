"""launch/data_report.py: the counts it prints and the files it writes."""

import json
import os
import subprocess
import sys

import matplotlib.image
import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_report_of_long_tail_with_label_noise_and_distortion(tmp_path,
                                                             tiny_data):
  data_dir, tfds_dir = tiny_data
  workdir = str(tmp_path / "report")
  cmd = [sys.executable, os.path.join(REPO, "launch", "data_report.py"),
         "--config=" + os.path.join(REPO, "configs", "fmnist_wgan.py") +
         ":tiny", f"--workdir={workdir}", f"--config.data.data_dir={data_dir}",
         f"--config.data.tfds_dir={tfds_dir}",
         "--config.data.label_noise=pair", "--config.data.label_noise_rate=0.4",
         "--config.data.test_distortion=gaussian",
         "--config.data.test_distortion_level=0.5",
         "--config.data.train_fraction=0.5",
         "--config.data.validation_per_class=0"]
  proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                        env=dict(os.environ, PYTHONPATH=REPO))
  assert proc.returncode == 0, proc.stderr[-3000:]
  with open(os.path.join(workdir, "data_report.json")) as f:
    summary = json.load(f)
  # Tiny data: 24 train images per class, IF 2 (24 ... 12), then half.
  clean = summary["train_per_class_clean_labels"]
  assert clean == [int(np.rint(0.5 * n)) for n in
                   np.rint(24 * 2.0 ** -(np.arange(10) / 9))]
  assert sum(summary["train_per_class"]) == sum(clean)
  assert summary["train_per_class"] != clean  # pair flips move images
  assert 0.15 < summary["label_noise_rate_measured"] < 0.65
  assert summary["test_per_class"] == [4] * 10
  assert summary["test_images_distorted"] == 28  # round(0.7 * 40)
  # The printed table shows the same counts, classes by name.
  table = proc.stdout.splitlines()
  assert table[0].split() == ["class", "train", "train(clean)", "test"]
  assert table[1].startswith("T-shirt/top ")
  assert table[10].startswith("Ankle boot ")
  assert [int(line.split()[-2]) for line in table[1:11]] == clean
  # Pictures: clean row above distorted row, 12 images each, 32 px.
  grid = matplotlib.image.imread(
      os.path.join(workdir, "test_clean_vs_distorted.png"))
  assert grid.shape[:2] == (2 * 33 + 1, 12 * 33 + 1)
  top, bottom = grid[1:33], grid[34:66]
  assert np.abs(top - bottom).max() > 0.1  # some images distorted
  for name in ("class_histogram.png", "label_noise_examples.png"):
    assert os.path.getsize(os.path.join(workdir, name)) > 1000
