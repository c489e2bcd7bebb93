"""Smoke test on the real Fashion-MNIST files of Debian's package.

CI installs them (`apt-get install dataset-fashion-mnist`, see .ci/run).
"""

import os

import numpy as np
import pytest

from wcgen.data import input_pipeline
from wcgen.data import sources
from wcgen.data import specs
from wcgen.train import trainer

HAVE_DEBIAN_FMNIST = os.path.exists(
    os.path.join(specs.DEBIAN_FASHION_MNIST_DIR,
                 "train-images-idx3-ubyte.gz"))


@pytest.mark.skipif(not HAVE_DEBIAN_FMNIST,
                    reason="apt-get install dataset-fashion-mnist")
def test_real_fashion_mnist_long_tail_and_two_steps(tmp_path):
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  config = fmnist_wgan.get_config("tiny")
  config.data.tfds_dir = str(tmp_path / "tfds")  # prepared from Debian's
  config.data.imbalance_factor = 100.0
  # The long tail on the whole training split, as the paper draws it.
  config.data.validation_per_class = 0
  config.schedule.num_train_steps = 2
  config.schedule.eval_batch_size = 1000
  data = input_pipeline.create_datasets(config.data)
  assert data.train_class_counts.tolist() == [
      6000, 3597, 2156, 1293, 775, 465, 278, 167, 100, 60]
  assert data.test_class_counts.tolist() == [1000] * 10
  # Real clothes: mean pixel of Fashion-MNIST's training set is ~72.9/255.
  full = sources.load_arrays("fashion_mnist", "train",
                             tfds_dir=config.data.tfds_dir)[0]
  assert abs(full.mean() - 72.94) < 0.1
  results = trainer.train_and_evaluate(config, str(tmp_path / "run"))
  assert np.isfinite(results.test_accuracy)
  assert results.train_class_counts[-1] == 60
