"""Test-time distortions of a clean-trained model's test set: the spec.

The paper's second bad-data setting: train on clean images, test on images
of which a fraction (70%) carry Gaussian noise of standard deviation sigma
or salt-and-pepper noise at rate r. Pixels are in [0, 1] here.

Which images are distorted is a seeded choice of exactly
round(fraction * N) of them; each image's noise comes from a stateless key
(seed, index in the test set). The distorted test set is therefore a fixed
function of the seed, whatever the batch size, device or host count.
This module is the spec and its checks (no TensorFlow, so that configs are
checked where images are never loaded); distortion_ops applies it in
tf.data.
"""

import dataclasses

import ml_collections
import numpy as np

from wcgen.errors import ConfigError

KINDS = ("none", "gaussian", "salt_pepper")


@dataclasses.dataclass(frozen=True)
class Distortion:
  """kind: one of KINDS; level: sigma (gaussian) or rate r (salt_pepper);
  fraction: of test images distorted; seed: of the choice and the noise."""
  kind: str = "none"
  level: float = 0.0
  fraction: float = 0.7
  seed: int = 0

  def __post_init__(self):
    if self.kind not in KINDS:
      raise ConfigError(f"unknown test_distortion {self.kind!r}; choose one "
                        f"of {list(KINDS)}")
    if not self.level >= 0:
      raise ConfigError(f"test_distortion_level (sigma or rate) must be >= 0, "
                        f"got {self.level}")
    if self.kind == "salt_pepper" and self.level > 1:
      raise ConfigError(f"salt-and-pepper rate must be in [0, 1], got "
                        f"{self.level}")
    if not 0 < self.fraction <= 1:
      raise ConfigError(f"test_distortion_fraction must be in (0, 1], got "
                        f"{self.fraction}; the paper uses 0.7")

  @property
  def active(self) -> bool:
    return self.kind != "none"

  def chosen(self, num_images: int) -> np.ndarray:
    """Bool [N]: which test images are distorted (exactly round(f*N))."""
    mask = np.zeros(num_images, bool)
    if self.active:
      rng = np.random.default_rng([self.seed, 3])
      count = int(round(self.fraction * num_images))
      mask[rng.choice(num_images, count, replace=False)] = True
    return mask


def from_config(data: ml_collections.ConfigDict) -> Distortion:
  """The distortion config.data names (checked)."""
  return Distortion(
      kind=data.test_distortion, level=data.test_distortion_level,
      fraction=data.test_distortion_fraction, seed=data.subset_seed)
