"""Bad config values stop at start-up with a one-line error."""

import os
import subprocess
import sys

import pytest
from flax import traverse_util

from configs import fmnist_wgan
from wcgen.errors import ConfigError
from wcgen.train import validation

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

BAD = [
    ("method.eps", 0.0, "method.eps must be > 0"),
    ("method.eps", -0.3, "method.eps must be > 0"),
    ("data.imbalance_factor", 0.5, "imbalance_factor must be >= 1"),
    ("method.name", "magic", "unknown method.name 'magic'"),
    ("schedule.batch_size", 6,
     "schedule.batch_size=6 is not divisible by the 4 devices"),
    ("schedule.eval_batch_size", 10,
     "schedule.eval_batch_size=10 is not divisible"),
    ("schedule.batch_size", 0,
     "schedule.batch_size must be a positive integer"),
    ("method.n_critic", 0, "method.n_critic must be a positive integer"),
    ("method.divergence", "kl", "unknown method.divergence 'kl'"),
    ("method.label_sampling", "rare", "unknown method.label_sampling"),
    ("data.name", "imagenet", "unknown data.name 'imagenet'"),
    ("model.generator.name", "stylegan",
     "unknown model.generator.name 'stylegan'"),
    ("data.image_size", 28, "data.image_size must be 32"),
    ("method.gp_weight", -1.0, "method.gp_weight must be >= 0"),
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
    ("method.mixup_alpha", 0.0, "method.mixup_alpha must be > 0"),
    ("data.augment.crop_pad", -1,
     "data.augment.crop_pad must be an integer >= 0"),
    ("data.augment.rotation_deg", 270.0,
     r"data.augment.rotation_deg must be in"),
    ("method.name", "dagan", "unknown method.name 'dagan'"),
    ("method.control_perturbation", "pgd",
     "unknown method.control_perturbation 'pgd'"),
    ("method.control_attack_steps", 0,
     "method.control_attack_steps must be a positive integer"),
    # The default control_perturbation is "random" (pixels): a per-class
    # radius only exists in feature space.
    ("method.control_radius_power", 0.25,
     "method.control_radius_power=0.25 scales a feature-space radius"),
    # M2m's translated companion rows (methods.translation): on the
    # default method (worst_case) they act on nothing.
    ("method.control_perturbation", "translated",
     "acts on seed_control's companion batch"),
    ("method.translation.steps", 0,
     "method.translation.steps must be a positive integer"),
    ("method.translation.step_rms", 0.0,
     "method.translation.step_rms must be > 0"),
    ("method.translation.threshold", 1.5,
     r"method.translation.threshold must be in \(0, 1\]"),
    ("method.translation.beta", 1.0, r"beta in \(0, 1\)"),
    ("method.translation.classifier_weight", -0.5,
     "method.translation.classifier_weight must be >= 0"),
    ("model.classifier.head", "arcface",
     "unknown model.classifier.head 'arcface'"),
    # The default loss is cross-entropy, which cannot train on cosines.
    ("model.classifier.head", "cosine",
     "model.classifier.head='cosine' needs loss.name='ldam'"),
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


@pytest.mark.parametrize("method,valid", [
    ("erm", True), ("oversampling", True), ("augment", True),
    ("mixup", False), ("seed_control", False), ("worst_case", False)])
def test_cosine_head_only_with_ldam_and_an_erm_method(method, valid):
  """LDAM scales the cosine head's logits; a method with another loss term
  (mixup's, the control's, the game's cross-entropy) would train on
  cosines in [-1, 1] unscaled."""
  config = fmnist_wgan.get_config()
  config.model.classifier.head = "cosine"
  config.loss.name = "ldam"
  config.method.name = method
  if valid:
    validation.validate_config(config, device_count=2)
  else:
    with pytest.raises(ConfigError, match="needs loss.name='ldam' with an "
                       "ERM method"):
      validation.validate_config(config, device_count=2)


@pytest.mark.parametrize("overrides,message", [
    ({}, "'translated' needs a reference classifier: set "
     "--config.method.reference_run"),
    ({"method.reference_run": "workdirs/erm", "method.control_noise_rms": 0.1},
     "control_noise_rms=0.1 does nothing with translated companion rows"),
])
def test_translated_companion_rows_need_m2ms_g_and_no_noise(overrides,
                                                           message):
  config = fmnist_wgan.get_config()
  config.update_from_flattened_dict({
      "method.name": "seed_control",
      "method.control_perturbation": "translated", **overrides})
  with pytest.raises(ConfigError, match=message) as info:
    validation.validate_config(config, device_count=4)
  assert "\n" not in str(info.value)
  config.update_from_flattened_dict({"method.reference_run": "workdirs/erm",
                                     "method.control_noise_rms": 0.0})
  validation.validate_config(config, device_count=4)  # now valid


def test_default_and_tiny_configs_are_valid():
  validation.validate_config(fmnist_wgan.get_config(), device_count=2)
  validation.validate_config(fmnist_wgan.get_config("tiny"), device_count=2)


def test_launcher_prints_one_line_and_exits_2(tmp_path):
  cmd = [sys.executable, os.path.join(REPO, "launch", "main.py"),
         "--config=" + os.path.join(REPO, "configs", "fmnist_wgan.py"),
         f"--workdir={tmp_path}", "--config.method.eps=0"]
  proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 2
  errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert errors == ["error: method.eps must be > 0 (lambda = 1/eps), got 0.0; the "
                    "paper's best is 0.3"]
  assert not os.listdir(tmp_path)  # nothing written before the check


def _fields(config):
  """{dotted field: value} of a config."""
  return traverse_util.flatten_dict(config.to_dict(), sep=".")


def _differing(a, b):
  a, b = _fields(a), _fields(b)
  return {k for k in a if a[k] != b[k]}


def test_variant_configs_differ_only_where_they_say():
  from configs import fmnist_js, mnist_wgan  # pylint: disable=g-import-not-at-top
  base, js = fmnist_wgan.get_config(), fmnist_js.get_config()
  assert _differing(base, js) == {"method.divergence", "method.gp_weight"}
  assert js.method.divergence == "js" and js.method.gp_weight == 0.0
  mnist = mnist_wgan.get_config()
  assert _differing(base, mnist) == {"data.name", "data.augment.flip"}
  assert mnist.data.name == "mnist"
  for config in (fmnist_js.get_config("tiny"), mnist_wgan.get_config("tiny")):
    validation.validate_config(config, device_count=2)


def test_colour_configs_are_valid_and_say_what_they_change():
  from configs import cifar_js, cifar_wgan, mnist_js, svhn_js, svhn_wgan  # pylint: disable=g-import-not-at-top
  base, cifar = fmnist_wgan.get_config(), cifar_wgan.get_config()
  assert cifar.data.name == "cifar10"
  assert cifar.model.classifier.name == "resnet32"
  paper = cifar_wgan.get_config("paper")
  assert paper.model.classifier.name == "resnet101"
  assert paper.model.generator.name == paper.model.critic.name == "biggan"
  assert _differing(base, cifar) == {"data.name", "data.imbalance_factor",
                                     "model.classifier.name"}
  svhn = svhn_wgan.get_config()
  assert svhn.data.name == "svhn_cropped" and not svhn.data.augment.flip
  assert svhn.data.test_distortion == "gaussian"
  assert mnist_js.get_config().data.name == "mnist"
  assert mnist_js.get_config().method.divergence == "js"
  for module in (cifar_wgan, cifar_js, svhn_wgan, svhn_js, mnist_js):
    for arg in ("", "tiny", "paper"):
      validation.validate_config(module.get_config(arg), device_count=2)
  assert cifar_js.get_config().method.divergence == "js"
  assert svhn_js.get_config().method.gp_weight == 0.0
