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


def _positive_int(tree: ml_collections.ConfigDict, path: str,
                  name: str) -> None:
  value = tree[name]
  if not isinstance(value, int) or isinstance(value, bool) or value < 1:
    raise ConfigError(f"{path}.{name} must be a positive integer, got "
                      f"{value!r}")


def _one_of(path: str, value, known) -> None:
  if value not in known:
    raise ConfigError(f"unknown {path} {value!r}; choose one of "
                      f"{list(known)} with --config.{path}")


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


def _validate_augment(augment: ml_collections.ConfigDict) -> None:
  if not isinstance(augment.crop_pad, int) or augment.crop_pad < 0:
    raise ConfigError(f"data.augment.crop_pad must be an integer >= 0, got "
                      f"{augment.crop_pad!r}")
  if not 0 <= augment.rotation_deg <= 180:
    raise ConfigError(f"data.augment.rotation_deg must be in [0, 180], got "
                      f"{augment.rotation_deg}")


def _validate_method(method: ml_collections.ConfigDict) -> None:
  """config.method: which method, and the game's and baselines' knobs."""
  _one_of("method.name", method.name, methods.METHODS)
  _positive_int(method, "method", "n_critic")
  if not method.eps > 0:
    raise ConfigError(f"method.eps must be > 0 (lambda = 1/eps), got "
                      f"{method.eps}; the paper's best is 0.3")
  _one_of("method.divergence", method.divergence, ("wasserstein", "js"))
  _one_of("method.label_sampling", method.label_sampling,
          ("balanced", "data"))
  if method.fake_weight < 0 or method.real_weight < 0 or not (
      method.fake_weight or method.real_weight):
    raise ConfigError("method.fake_weight and method.real_weight must be "
                      ">= 0 and not both 0")
  if not isinstance(method.warmup_steps, int) or method.warmup_steps < 0:
    raise ConfigError(f"method.warmup_steps must be an integer >= 0, got "
                      f"{method.warmup_steps!r}")
  if not method.mixup_alpha > 0:
    raise ConfigError(f"method.mixup_alpha must be > 0, got "
                      f"{method.mixup_alpha}")
  _one_of("method.critic_data", method.critic_data, ("batch", "balanced"))
  if method.transport_weight < 0:
    raise ConfigError(f"method.transport_weight must be >= 0, got "
                      f"{method.transport_weight}")
  if method.control_noise_rms < 0:
    raise ConfigError(f"method.control_noise_rms must be >= 0, got "
                      f"{method.control_noise_rms}")
  _one_of("method.fake_filter", method.fake_filter, objectives.FAKE_FILTERS)
  if method.fake_filter != "none" and not method.reference_run:
    raise ConfigError(f"method.fake_filter={method.fake_filter!r} needs a "
                      "reference classifier: set --config.method.reference_run"
                      "=WORKDIR of a finished run on the same data (e.g. ERM)")
  if not 0 < method.fake_filter_threshold <= 1:
    raise ConfigError(f"method.fake_filter_threshold must be in (0, 1], got "
                      f"{method.fake_filter_threshold}")
  if method.gp_weight < 0:
    raise ConfigError(f"method.gp_weight must be >= 0, got "
                      f"{method.gp_weight}")


def _validate_loss(loss: ml_collections.ConfigDict) -> None:
  """config.loss: C's loss on real images."""
  _one_of("loss.name", loss.name, classification_losses.LOSSES)
  _one_of("loss.cb_kind", loss.cb_kind, ("softmax", "sigmoid", "focal"))
  if not 0 <= loss.cb_beta < 1:
    raise ConfigError(f"loss.cb_beta must be in [0, 1), got {loss.cb_beta}")


def _validate_model(model: ml_collections.ConfigDict) -> None:
  """config.model: the three networks and their precision."""
  _one_of("model.compute_dtype", model.compute_dtype,
          ("float32", "bfloat16"))
  _one_of("model.generator.name", model.generator.name, models.GENERATORS)
  _one_of("model.critic.name", model.critic.name, models.CRITICS)
  _one_of("model.classifier.name", model.classifier.name,
          models.CLASSIFIERS)
  _positive_int(model.generator, "model.generator", "latent_dim")
  if not 0 < model.generator.perturbation_bound <= 2:
    raise ConfigError(f"model.generator.perturbation_bound must be in (0, 2] "
                      f"(images are in [-1, 1]), got "
                      f"{model.generator.perturbation_bound}")


def _validate_schedule(schedule: ml_collections.ConfigDict,
                       device_count: int) -> None:
  """config.schedule: batch sizes, steps and the loop's cadence."""
  for name in ("batch_size", "num_train_steps", "log_every_steps",
               "eval_every_steps", "checkpoint_every_steps",
               "eval_batch_size", "samples_per_class"):
    _positive_int(schedule, "schedule", name)
  if (not isinstance(schedule.max_skipped_updates, int) or
      schedule.max_skipped_updates < 0):
    raise ConfigError(f"schedule.max_skipped_updates must be an integer "
                      f">= 0, got {schedule.max_skipped_updates!r}")
  if schedule.checkpoint_every_steps % schedule.log_every_steps:
    raise ConfigError(
        f"schedule.checkpoint_every_steps={schedule.checkpoint_every_steps} "
        f"must be a multiple of schedule.log_every_steps="
        f"{schedule.log_every_steps}, so that a resumed run logs the same "
        "rows as an uninterrupted one")
  for name in ("batch_size", "eval_batch_size"):
    if schedule[name] % device_count:
      raise ConfigError(f"schedule.{name}={schedule[name]} is not divisible "
                        f"by the {device_count} devices; use a multiple of "
                        f"{device_count}")


def validate_config(config: ml_collections.ConfigDict,
                    device_count: int) -> None:
  """Raises ConfigError naming the first bad field and what to do."""
  _one_of("data.name", config.data.name, sorted(sources.DATASETS))
  _validate_data(config.data)
  _validate_augment(config.data.augment)
  _validate_method(config.method)
  _validate_loss(config.loss)
  _validate_model(config.model)
  _validate_schedule(config.schedule, device_count)
  if config.data.image_size != 32:
    raise ConfigError(f"data.image_size must be 32 (the paper's size, and "
                      f"what the generators draw), got "
                      f"{config.data.image_size}")
