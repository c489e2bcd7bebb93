"""Bad config values stop at start-up with a one-line error."""

import os
import subprocess
import sys

import pytest

from configs import fmnist_wgan
from wcgen.errors import ConfigError
from wcgen.train import validation

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BAD = [
    ("eps", 0.0, "eps must be > 0"),
    ("eps", -0.3, "eps must be > 0"),
    ("data.imbalance_factor", 0.5, "imbalance_factor must be >= 1"),
    ("method", "magic", "unknown method 'magic'"),
    ("batch_size", 6, "batch_size=6 is not divisible by the 4 devices"),
    ("eval_batch_size", 10, "eval_batch_size=10 is not divisible"),
    ("batch_size", 0, "batch_size must be a positive integer"),
    ("n_critic", 0, "n_critic must be a positive integer"),
    ("divergence", "kl", "unknown divergence 'kl'"),
    ("label_sampling", "rare", "unknown label_sampling"),
    ("data.name", "imagenet", "unknown dataset 'imagenet'"),
    ("generator", "stylegan", "unknown generator 'stylegan'"),
    ("data.image_size", 28, "data.image_size must be 32"),
    ("gp_weight", -1.0, "gp_weight must be >= 0"),
    ("data.long_tail_convention", "zipf",
     "unknown data.long_tail_convention 'zipf'"),
    ("data.train_fraction", 0.0, r"train_fraction must be in \(0, 1\]"),
    ("data.train_fraction", 1.2, r"train_fraction must be in \(0, 1\]"),
    ("data.label_noise", "asym", "unknown data.label_noise 'asym'"),
    ("data.label_noise_rate", 1.0, r"label_noise_rate must be in \[0, 1\)"),
    ("data.test_distortion", "blur", "unknown test_distortion 'blur'"),
    ("data.test_distortion_level", -0.1, "must be >= 0"),
    ("data.test_distortion_fraction", 0.0, "test_distortion_fraction must be"),
    ("data.sampling", "balanced", "unknown data.sampling 'balanced'"),
    ("mixup_alpha", 0.0, "mixup_alpha must be > 0"),
    ("augment_crop_pad", -1, "augment_crop_pad must be an integer >= 0"),
    ("augment_rotation_deg", 270.0, r"augment_rotation_deg must be in"),
    ("method", "dagan", "unknown method 'dagan'"),
]


@pytest.mark.parametrize("field,value,message", BAD)
def test_bad_value_gives_its_message(field, value, message):
  config = fmnist_wgan.get_config()
  node = config
  *parents, leaf = field.split(".")
  for p in parents:
    node = node[p]
  with node.ignore_type():
    node[leaf] = value
  with pytest.raises(ConfigError, match=message) as info:
    validation.validate_config(config, device_count=4)
  assert "\n" not in str(info.value)


def test_default_and_tiny_configs_are_valid():
  validation.validate_config(fmnist_wgan.get_config(), device_count=2)
  validation.validate_config(fmnist_wgan.get_config("tiny"), device_count=2)


def test_launcher_prints_one_line_and_exits_2(tmp_path):
  cmd = [sys.executable, os.path.join(REPO, "launch", "main.py"),
         "--config=" + os.path.join(REPO, "configs", "fmnist_wgan.py"),
         f"--workdir={tmp_path}", "--config.eps=0"]
  proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 2
  errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert errors == ["error: eps must be > 0 (lambda = 1/eps), got 0.0; the "
                    "paper's best is 0.3"]
  assert not os.listdir(tmp_path)  # nothing written before the check


def test_variant_configs_differ_only_where_they_say():
  from configs import fmnist_js, mnist_wgan  # pylint: disable=g-import-not-at-top
  base = fmnist_wgan.get_config().to_dict()
  js = fmnist_js.get_config().to_dict()
  mnist = mnist_wgan.get_config().to_dict()
  assert {k for k in base if base[k] != js[k]} == {"divergence", "gp_weight"}
  assert js["divergence"] == "js" and js["gp_weight"] == 0.0
  assert {k for k in base if base[k] != mnist[k]} == {"data", "augment_flip"}
  assert mnist["data"]["name"] == "mnist"
  for config in (fmnist_js.get_config("tiny"), mnist_wgan.get_config("tiny")):
    validation.validate_config(config, device_count=2)


def test_colour_configs_are_valid_and_say_what_they_change():
  from configs import cifar_js, cifar_wgan, mnist_js, svhn_js, svhn_wgan  # pylint: disable=g-import-not-at-top
  base = fmnist_wgan.get_config().to_dict()
  cifar = cifar_wgan.get_config().to_dict()
  assert cifar["data"]["name"] == "cifar10"
  assert cifar["classifier"] == "resnet32"
  paper = cifar_wgan.get_config("paper")
  assert paper.classifier == "resnet101"
  assert paper.generator == paper.critic == "biggan"
  assert {k for k in base if base[k] != cifar[k]} == {"data", "classifier"}
  svhn = svhn_wgan.get_config()
  assert svhn.data.name == "svhn_cropped" and not svhn.augment_flip
  assert svhn.data.test_distortion == "gaussian"
  assert mnist_js.get_config().data.name == "mnist"
  assert mnist_js.get_config().divergence == "js"
  for module in (cifar_wgan, cifar_js, svhn_wgan, svhn_js, mnist_js):
    for arg in ("", "tiny", "paper"):
      validation.validate_config(module.get_config(arg), device_count=2)
  assert cifar_js.get_config().divergence == "js"
  assert svhn_js.get_config().gp_weight == 0.0
