"""Config checks run before any work starts (one line per problem)."""

import ml_collections

from wcgen import methods
from wcgen import models
from wcgen.data import distortions
from wcgen.data import label_noise
from wcgen.data import long_tail
from wcgen.data import specs
from wcgen.errors import ConfigError
from wcgen.errors import check_one_of
from wcgen.errors import check_positive_int


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
                    specs.get_spec(data.name).num_classes
                    if data.name in specs.DATASETS else 10)
  if data.sampling not in ("uniform", "class_balanced"):
    raise ConfigError(f"unknown data.sampling {data.sampling!r}; choose "
                      "'uniform' or 'class_balanced'")
  # The Distortion dataclass checks kind, level and fraction.
  distortions.from_config(data)


def _validate_augment(augment: ml_collections.ConfigDict) -> None:
  if not isinstance(augment.crop_pad, int) or augment.crop_pad < 0:
    raise ConfigError(f"data.augment.crop_pad must be an integer >= 0, got "
                      f"{augment.crop_pad!r}")
  if not 0 <= augment.rotation_deg <= 180:
    raise ConfigError(f"data.augment.rotation_deg must be in [0, 180], got "
                      f"{augment.rotation_deg}")


def _validate_schedule(schedule: ml_collections.ConfigDict,
                       device_count: int) -> None:
  """config.schedule: batch sizes, steps and the loop's cadence."""
  for name in ("batch_size", "num_train_steps", "log_every_steps",
               "eval_every_steps", "checkpoint_every_steps",
               "eval_batch_size", "samples_per_class"):
    check_positive_int(f"schedule.{name}", schedule[name])
  if (not isinstance(schedule.fidelity_per_class, int) or
      schedule.fidelity_per_class < 0):
    raise ConfigError(f"schedule.fidelity_per_class must be an integer >= 0 "
                      f"(0 = off), got {schedule.fidelity_per_class!r}")
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


def _validate_head(config: ml_collections.ConfigDict) -> None:
  """The cosine head's logits lie in [-1, 1]: only LDAM's loss scales them
  (loss.ldam_scale), and only ERM trains C on that loss alone (the games'
  and mixup's other terms are plain cross-entropy on the logits)."""
  method = methods.with_preset(config).method.name
  if config.model.classifier.head == "cosine" and (
      config.loss.name != "ldam" or method != "erm"):
    raise ConfigError(
        f"model.classifier.head='cosine' needs loss.name='ldam' with an ERM "
        f"method (erm, oversampling or augment), got loss.name="
        f"{config.loss.name!r} and method.name={config.method.name!r}; set "
        f"them, or keep head='linear'")


def validate_config(config: ml_collections.ConfigDict,
                    device_count: int) -> None:
  """Raises ConfigError naming the first bad field and what to do."""
  check_one_of("data.name", config.data.name, sorted(specs.DATASETS))
  _validate_data(config.data)
  _validate_augment(config.data.augment)
  # Each subtree is checked by the code that builds from it.
  methods.validate(config.method)
  methods.loss_spec(config.loss)
  models.validate(config.model)
  _validate_head(config)
  _validate_schedule(config.schedule, device_count)
  fraction = config.optim.generator.final_lr_fraction
  if not 0 < fraction <= 1:
    raise ConfigError(f"optim.generator.final_lr_fraction must be in (0, 1] "
                      f"(1 = a constant rate), got {fraction}")
  if config.data.image_size != 32:
    raise ConfigError(f"data.image_size must be 32 (the paper's size, and "
                      f"what the generators draw), got "
                      f"{config.data.image_size}")
