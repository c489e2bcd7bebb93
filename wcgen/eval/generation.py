"""Scores a finished run's generator: FID, or FCD where FID cannot be had.

The paper's Table 4 compares generators by FID "calculated with 10,000
samples randomly chosen from [the] training dataset and 10,000 generated
samples", the real ones drawn from the whole training set, not from the
long-tailed or reduced one the generator saw. `GeneratorScorer` does that
for any run with a generator (worst_case, gan_augment, triple_gan):

* metric "fid": pool_3 features of the FID Inception, weights from a local
  file (`wcgen.eval.fid`);
* metric "fcd": the Fréchet *Classifier* Distance, penultimate features of
  a classifier trained on the whole balanced training set (an ERM run the
  caller names). Its scale is not FID's: never compare it with the paper.

Generated labels are class-balanced (as many samples of each class), like
the whole training sets of MNIST and CIFAR-10.
"""

import json
import os
from typing import Callable, Dict

import ml_collections
import numpy as np

from wcgen.data import input_pipeline
from wcgen.data import sources
from wcgen.data import specs
from wcgen.errors import ConfigError
from wcgen.eval import features as features_lib
from wcgen.eval import frechet
from wcgen.core import files

METRICS = ("fid", "fcd")
FeatureFn = Callable[[np.ndarray], np.ndarray]


def real_training_images(config: ml_collections.ConfigDict, num: int,
                         seed: int = 0) -> np.ndarray:
  """`num` images drawn uniformly without replacement from the whole
  training split of config.data.name (no long tail, no reduction), as the
  models see them: float32 in [-1, 1] at config.data.image_size."""
  data = config.data
  images, _ = sources.load_arrays(data.name, "train", data_dir=data.data_dir,
                                  tfds_dir=data.tfds_dir,
                                  download=data.download)
  if num > len(images):
    raise ConfigError(f"{num} real images asked for, but the {data.name} "
                      f"training split has {len(images)}; lower the sample "
                      "count")
  rows = np.sort(np.random.default_rng(seed).choice(len(images), num,
                                                    replace=False))
  return input_pipeline.preprocess_images(images[rows],
                                          data.image_size).numpy()


def balanced_labels(num: int, num_classes: int) -> np.ndarray:
  """0, 1, ..., K-1, 0, 1, ...: as many samples of each class as can be."""
  return (np.arange(num) % num_classes).astype(np.int32)


class GeneratorScorer:
  """fn(run_dir) -> Fréchet distance of the run's generator to real data.

  Real features are computed once per dataset; each run's score is cached
  in run_dir/<metric>.json (written atomically) with the sample count and
  `source` (what the features come from: the weight file, the reference
  runs), so a sweep that is interrupted or repeated does not recompute it,
  and a change of either recomputes it.
  """

  def __init__(self, metric: str, num_samples: int,
               feature_fn_for: Callable[[ml_collections.ConfigDict],
                                        FeatureFn], seed: int = 0,
               source: str = ""):
    if metric not in METRICS:
      raise ConfigError(f"unknown generator metric {metric!r}; choose one "
                        f"of {list(METRICS)}")
    if num_samples < 2:
      raise ConfigError(f"need at least 2 samples per set, got {num_samples}")
    self.metric, self.num_samples, self.seed = metric, num_samples, seed
    self.source = source
    self._feature_fn_for = feature_fn_for
    self._real: Dict[str, tuple] = {}

  def _real_statistics(self, config, feature_fn):
    key = config.data.name
    if key not in self._real:
      images = real_training_images(config, self.num_samples, self.seed)
      self._real[key] = frechet.gaussian_statistics(feature_fn(images))
    return self._real[key]

  def __call__(self, run_dir: str) -> float:
    path = os.path.join(run_dir, f"{self.metric}.json")
    if os.path.exists(path):
      with open(path) as f:
        cached = json.load(f)
      if (cached.get("samples"), cached.get("source")) == (self.num_samples,
                                                           self.source):
        return float(cached[self.metric])
    config, method, state = features_lib.load_run(run_dir)
    feature_fn = self._feature_fn_for(config)
    labels = balanced_labels(self.num_samples,
                             specs.get_spec(config.data.name).num_classes)
    data = (input_pipeline.create_datasets(config.data)
            if method.per_sample else None)
    fake = features_lib.run_samples(method, state, labels, data,
                                    seed=self.seed)
    mu_real, sigma_real = self._real_statistics(config, feature_fn)
    value = frechet.frechet_distance(
        *frechet.gaussian_statistics(feature_fn(fake)), mu_real, sigma_real)
    files.atomic_write_json(path, {
        self.metric: value, "samples": self.num_samples,
        "source": self.source,
        "real_images": "uniform from the whole training split",
        "generated_labels": "class-balanced"})
    return value


def inception_feature_fn_for(weights_path: str):
  """feature_fn_for of FID: one Inception for every dataset."""
  from wcgen.eval import fid  # pylint: disable=g-import-not-at-top
  feature_fn = fid.feature_fn(fid.load_inception(weights_path))
  return lambda config: feature_fn


def classifier_feature_fn_for(reference_dirs: Dict[str, str]):
  """feature_fn_for of FCD: the penultimate features of the reference run
  (ERM on the whole balanced training set) of the config's dataset."""
  loaded = {}

  def feature_fn_for(config):
    name = config.data.name
    if name not in loaded:
      _, method, state = features_lib.load_run(reference_dirs[name])
      loaded[name] = lambda images: features_lib.penultimate_features(
          method, state, images)
    return loaded[name]

  return feature_fn_for
