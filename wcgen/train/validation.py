"""Config checks run before any work starts (one line per problem)."""

import ml_collections

from wcgen import classification_losses
from wcgen import methods
from wcgen import models
from wcgen import objectives
from wcgen.data import input_pipeline
from wcgen.data import label_noise
from wcgen.data import long_tail
from wcgen.data import sources
from wcgen.errors import ConfigError


def _positive_int(config, name: str) -> None:
  value = config[name]
  if not isinstance(value, int) or isinstance(value, bool) or value < 1:
    raise ConfigError(f"{name} must be a positive integer, got {value!r}")


def _validate_data(data: ml_collections.ConfigDict) -> None:
  if not data.imbalance_factor >= 1:
    raise ConfigError("data.imbalance_factor must be >= 1 (1 = balanced), "
                      f"got {data.imbalance_factor}")
  if data.long_tail_convention not in long_tail.CONVENTIONS:
    raise ConfigError(f"unknown data.long_tail_convention "
                      f"{data.long_tail_convention!r}; choose one of "
                      f"{list(long_tail.CONVENTIONS)}")
  if not 0 < data.train_fraction <= 1:
    raise ConfigError(f"data.train_fraction must be in (0, 1], got "
                      f"{data.train_fraction}; the paper uses 0.2 and 0.3")
  label_noise.check(data.label_noise, data.label_noise_rate,
                    sources.get_spec(data.name).num_classes
                    if data.name in sources.DATASETS else 10)
  if data.sampling not in ("uniform", "class_balanced"):
    raise ConfigError(f"unknown data.sampling {data.sampling!r}; choose "
                      "'uniform' or 'class_balanced'")
  # The Distortion dataclass checks kind, level and fraction.
  input_pipeline.distortion_from_config(data)


def validate_config(config: ml_collections.ConfigDict,
                    device_count: int) -> None:
  """Raises ConfigError naming the first bad field and what to do."""
  if config.method not in methods.METHODS:
    raise ConfigError(f"unknown method {config.method!r}; choose one of "
                      f"{list(methods.METHODS)} with --config.method")
  if config.data.name not in sources.DATASETS:
    raise ConfigError(f"unknown dataset {config.data.name!r}; choose one of "
                      f"{sorted(sources.DATASETS)} with --config.data.name")
  for name in ("batch_size", "num_train_steps", "log_every_steps",
               "eval_every_steps", "checkpoint_every_steps", "eval_batch_size",
               "n_critic", "latent_dim", "samples_per_class"):
    _positive_int(config, name)
  if not config.eps > 0:
    raise ConfigError(f"eps must be > 0 (lambda = 1/eps), got {config.eps}; "
                      "the paper's best is 0.3")
  _validate_data(config.data)
  if config.get("compute_dtype", "float32") not in ("float32", "bfloat16"):
    raise ConfigError(f"unknown compute_dtype {config.compute_dtype!r}; "
                      "choose 'float32' or 'bfloat16'")
  if config.divergence not in ("wasserstein", "js"):
    raise ConfigError(f"unknown divergence {config.divergence!r}; choose "
                      "'wasserstein' or 'js'")
  if config.label_sampling not in ("balanced", "data"):
    raise ConfigError(f"unknown label_sampling {config.label_sampling!r}; "
                      "choose 'balanced' or 'data'")
  if config.fake_weight < 0 or config.real_weight < 0 or not (
      config.fake_weight or config.real_weight):
    raise ConfigError("fake_weight and real_weight must be >= 0 and not "
                      "both 0")
  if config.classifier_loss not in classification_losses.LOSSES:
    raise ConfigError(f"unknown classifier_loss {config.classifier_loss!r}; "
                      f"choose one of {list(classification_losses.LOSSES)}")
  if config.cb_kind not in ("softmax", "sigmoid", "focal"):
    raise ConfigError(f"unknown cb_kind {config.cb_kind!r}; choose "
                      "'softmax', 'sigmoid' or 'focal'")
  if not 0 <= config.cb_beta < 1:
    raise ConfigError(f"cb_beta must be in [0, 1), got {config.cb_beta}")
  if not isinstance(config.warmup_steps, int) or config.warmup_steps < 0:
    raise ConfigError(f"warmup_steps must be an integer >= 0, got "
                      f"{config.warmup_steps!r}")
  if (not isinstance(config.max_skipped_updates, int) or
      config.max_skipped_updates < 0):
    raise ConfigError(f"max_skipped_updates must be an integer >= 0, got "
                      f"{config.max_skipped_updates!r}")
  if not config.mixup_alpha > 0:
    raise ConfigError(f"mixup_alpha must be > 0, got {config.mixup_alpha}")
  if not isinstance(config.augment_crop_pad, int) or config.augment_crop_pad < 0:
    raise ConfigError(f"augment_crop_pad must be an integer >= 0, got "
                      f"{config.augment_crop_pad!r}")
  if not 0 <= config.augment_rotation_deg <= 180:
    raise ConfigError(f"augment_rotation_deg must be in [0, 180], got "
                      f"{config.augment_rotation_deg}")
  if config.critic_data not in ("batch", "balanced"):
    raise ConfigError(f"unknown critic_data {config.critic_data!r}; choose "
                      "'batch' or 'balanced'")
  if config.transport_weight < 0:
    raise ConfigError(f"transport_weight must be >= 0, got "
                      f"{config.transport_weight}")
  if not 0 < config.perturbation_bound <= 2:
    raise ConfigError(f"perturbation_bound must be in (0, 2] (images are in "
                      f"[-1, 1]), got {config.perturbation_bound}")
  if config.control_noise_rms < 0:
    raise ConfigError(f"control_noise_rms must be >= 0, got "
                      f"{config.control_noise_rms}")
  if config.fake_filter not in objectives.FAKE_FILTERS:
    raise ConfigError(f"unknown fake_filter {config.fake_filter!r}; choose "
                      f"one of {list(objectives.FAKE_FILTERS)}")
  if config.fake_filter != "none" and not config.reference_run:
    raise ConfigError(f"fake_filter={config.fake_filter!r} needs a reference "
                      "classifier: set --config.reference_run=WORKDIR of a "
                      "finished run on the same data (e.g. ERM)")
  if not 0 < config.fake_filter_threshold <= 1:
    raise ConfigError(f"fake_filter_threshold must be in (0, 1], got "
                      f"{config.fake_filter_threshold}")
  if config.gp_weight < 0:
    raise ConfigError(f"gp_weight must be >= 0, got {config.gp_weight}")
  for kind, name, known in (("generator", config.generator, models.GENERATORS),
                            ("critic", config.critic, models.CRITICS),
                            ("classifier", config.classifier,
                             models.CLASSIFIERS)):
    if name not in known:
      raise ConfigError(f"unknown {kind} {name!r}; choose one of "
                        f"{list(known)}")
  if config.checkpoint_every_steps % config.log_every_steps:
    raise ConfigError(
        f"checkpoint_every_steps={config.checkpoint_every_steps} must be a "
        f"multiple of log_every_steps={config.log_every_steps}, so that a "
        "resumed run logs the same rows as an uninterrupted one")
  for name in ("batch_size", "eval_batch_size"):
    if config[name] % device_count:
      raise ConfigError(f"{name}={config[name]} is not divisible by the "
                        f"{device_count} devices; use a multiple of "
                        f"{device_count}")
  if config.data.image_size != 32:
    raise ConfigError(f"data.image_size must be 32 (the paper's size, and "
                      f"what the generators draw), got {config.data.image_size}")
