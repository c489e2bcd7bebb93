"""CIFAR-10 and SVHN runs end to end, from files in their real formats,
with every bad-data transform of the paper switched on."""

import json
import os

import pytest

from conftest import make_cifar_tarball
from conftest import make_svhn_dir
from wcgen.train import trainer


@pytest.fixture(scope="module")
def colour_data(tmp_path_factory):
  base = tmp_path_factory.mktemp("colour")
  make_cifar_tarball(str(base / "raw" / "cifar10"), train_per_class=12,
                     test_per_class=2)
  make_svhn_dir(str(base / "raw" / "svhn_cropped"), train_per_class=12,
                test_per_class=2)
  return str(base / "raw"), str(base / "tfds")


def _config(name, method, colour_data):
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  config = fmnist_wgan.get_config("tiny")
  config.method.name = method
  config.data.name = name
  config.data.data_dir, config.data.tfds_dir = colour_data
  return config


def test_cifar10_ldam_long_tail_reduced_erm(tmp_path, colour_data):
  config = _config("cifar10", "erm", colour_data)
  config.data.long_tail_convention = "ldam"
  config.data.imbalance_factor = 4.0
  config.data.train_fraction = 0.5
  config.data.validation_per_class = 0  # the long tail on all 12 per class
  results = trainer.train_and_evaluate(config, str(tmp_path))
  # ldam: int(12 * 4^(-c/9)) = 12, 10, 8, 7, 6, 5, 4, 3, 3, 3; then halved.
  assert results.train_class_counts == [6, 5, 4, 4, 3, 2, 2, 2, 2, 2]
  assert results.test_distorted_accuracy is None
  assert len(results.test_per_class_accuracy) == 10


def test_svhn_worst_case_with_label_noise_and_distorted_test(tmp_path,
                                                             colour_data):
  config = _config("svhn_cropped", "worst_case", colour_data)
  config.data.imbalance_factor = 1.0
  config.data.label_noise = "symmetric"
  config.data.label_noise_rate = 0.2
  config.data.test_distortion = "salt_pepper"
  config.data.test_distortion_level = 0.3
  results = trainer.train_and_evaluate(config, str(tmp_path))
  assert 0.0 <= results.test_distorted_accuracy <= 1.0
  assert results.test_distortion["kind"] == "salt_pepper"
  with open(os.path.join(str(tmp_path), "metrics.jsonl")) as f:
    rows = [json.loads(line) for line in f]
  # The test set (clean and distorted) is read once, at the end.
  assert [r["step"] for r in rows if "test_distorted_accuracy" in r] == [4]


def test_cifar_wgan_tiny_config_runs_the_game(tmp_path, colour_data):
  """`configs/cifar_wgan.py:tiny` as shipped (ResNet-32 C, 3-channel G/D),
  on a CIFAR-10 tarball in the real format."""
  from configs import cifar_wgan  # pylint: disable=g-import-not-at-top
  config = cifar_wgan.get_config("tiny")
  config.data.data_dir, config.data.tfds_dir = colour_data
  assert (config.data.name, config.model.classifier.name) == ("cifar10", "resnet32")
  results = trainer.train_and_evaluate(config, str(tmp_path))
  # 2 images per class held out for validation, then the config's IF=10
  # by the paper's rule over the 10 left: the rarest keeps round(1.0) = 1.
  assert results.train_class_counts[0] == 10
  assert results.train_class_counts[-1] == 1
  with open(os.path.join(str(tmp_path), "metrics.jsonl")) as f:
    rows = [json.loads(line) for line in f]
  game_rows = [r for r in rows if "w_distance" in r]
  assert game_rows and game_rows[-1]["step"] == config.schedule.num_train_steps
  assert 0.0 <= results.test_accuracy <= 1.0
  import numpy as np  # pylint: disable=g-import-not-at-top
  from PIL import Image  # pylint: disable=g-import-not-at-top
  grid = np.asarray(Image.open(os.path.join(str(tmp_path), "samples",
                                            "step_0000004.png")))
  # One row per class, samples in colour: the channels differ somewhere.
  assert grid.ndim == 3 and grid.shape[-1] in (3, 4)  # RGB or RGBA
  assert np.abs(grid[..., 0].astype(int) - grid[..., 1]).max() > 0
