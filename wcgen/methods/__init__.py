"""Training methods, selected by `config.method.name`; each is a
`protocol.Method`: init, the pure step the driver jits, the classifier
evaluation scores, samples for grids and feature plots, and whether the
step needs a class-balanced companion batch.
"""

import dataclasses
import functools
from typing import Any, Callable, Dict, Optional, Sequence

import jax
import ml_collections
import numpy as np
import optax

from wcgen import augment
from wcgen import classification_losses
from wcgen import models
from wcgen import objectives
from wcgen.errors import ConfigError
from wcgen.errors import check_one_of
from wcgen.errors import check_positive_int
from wcgen.methods.erm import COMPANION_PERTURBATIONS
from wcgen.methods.erm import ERM
from wcgen.methods.feature_space import FEATURE_PERTURBATIONS
from wcgen.methods.protocol import Method
from wcgen.methods.translation import Translation
from wcgen.methods.worst_case import GameState, WorstCaseGame
from wcgen.models.precision import MixedPrecision
from wcgen.core.state import PERTURBED_BATCH_NORMS
from wcgen.core.state import skip_nonfinite

# Baselines that are another method with settings changed, selectable by
# name: `with_preset` rewrites them once, so nothing else tests for these
# names (the data pipeline reads data.sampling, the builders read
# data.augment.enabled). The recorded config keeps the name the user gave.
PRESETS: Dict[str, Dict[str, Any]] = {
    "oversampling": {"method.name": "erm", "data.sampling": "class_balanced"},
    "augment": {"method.name": "erm", "data.augment.enabled": True},
}


def with_preset(config: ml_collections.ConfigDict
                ) -> ml_collections.ConfigDict:
  """`config`, or a copy with its method's preset applied."""
  preset = PRESETS.get(config.method.name)
  if preset is None:
    return config
  resolved = config.copy_and_resolve_references()
  resolved.update_from_flattened_dict(preset)
  return resolved


def classifier_optimizer(opt: ml_collections.ConfigDict, num_train_steps: int
                        ) -> optax.GradientTransformation:
  """Adam with cosine decay and L2 weight decay, shared by every method's
  classifier; `opt` is config.optim.classifier.

  The decay is torch.optim.Adam's `weight_decay`: weight_decay * w joins
  the gradient before Adam's scaling, so the configured 5e-4 acts as
  written. (optax.adamw's decoupled decay is multiplied by the learning
  rate: 5e-4 there is 5e-7 per step at lr 1e-3, which did nothing.)
  """
  schedule = optax.cosine_decay_schedule(opt.lr, num_train_steps,
                                         alpha=opt.final_lr_fraction)
  return skip_nonfinite(optax.chain(
      optax.add_decayed_weights(opt.weight_decay),
      optax.adam(schedule, b1=0.9, b2=0.999)))


def gan_optimizer(opt: ml_collections.ConfigDict, num_train_steps: int = 0,
                  first_update_step: int = 0
                  ) -> optax.GradientTransformation:
  """Adam for G or D (`opt` is config.optim.generator or .critic).

  A constant learning rate, unless `opt.final_lr_fraction` < 1 (the
  generator's option): then the classifier's cosine decay over the run's
  `num_train_steps`, on the global step. The optimiser counts its own
  updates, and G's first comes at `first_update_step` (the end of a
  frozen warm-up), so its k-th update uses the rate of global step
  first_update_step + k: G's rate then falls in step with C's instead of
  outrunning a C whose rate has decayed.
  """
  lr = opt.lr
  if opt.get("final_lr_fraction", 1.0) < 1.0:
    cosine = optax.cosine_decay_schedule(opt.lr, num_train_steps,
                                         alpha=opt.final_lr_fraction)
    lr = lambda count: cosine(count + first_update_step)
  return skip_nonfinite(optax.adam(lr, b1=opt.b1, b2=opt.b2))


def augmentation(options: ml_collections.ConfigDict):
  """The standard augmentation config.data.augment asks for (with any
  method), or None."""
  if not options.enabled:
    return None
  return augment.Augmentation(crop_pad=options.crop_pad, flip=options.flip,
                              max_rotation_deg=options.rotation_deg)


def loss_spec(loss: ml_collections.ConfigDict
              ) -> classification_losses.LossSpec:
  """C's loss on real images, from config.loss (posthoc_tau is applied at
  evaluation, not in the loss)."""
  fields = {f.name for f in dataclasses.fields(classification_losses.LossSpec)}
  return classification_losses.LossSpec(
      **{k: v for k, v in loss.items() if k in fields})


def _in_compute_dtype(compute_dtype: str, module):
  """`module`, computing in bfloat16 when config.model.compute_dtype says so."""
  if compute_dtype == "bfloat16":
    return MixedPrecision(module, jax.numpy.bfloat16)
  return module


def translation_for(method, class_counts) -> Optional[Translation]:
  """M2m's generation step (config.method.translation) when the control's
  companion batch is "translated"; None otherwise, or when no class counts
  are given (a method built to evaluate a finished run: only training
  translates)."""
  if method.control_perturbation != "translated" or class_counts is None:
    return None
  return Translation(class_counts=tuple(int(n) for n in class_counts),
                     **method.translation.to_dict())


def _erm(method, classifier, c_tx, loss_fn, augment_fn, num_classes, *,
         class_counts, reference_logits_fn, mixup=False, control=False,
         **unused) -> ERM:
  """ERM and the baselines that change one thing about it: mixup's mixed
  inputs, or the per-sample game's control (a class-balanced companion
  batch, unperturbed, with noise, or with M2m's translations)."""
  del unused
  translation = translation_for(method, class_counts) if control else None
  perturbation = method.control_perturbation
  if perturbation == "translated" and (translation is None or
                                       reference_logits_fn is None):
    # Built to evaluate or sample a finished run: the companion batch
    # (training only) is never drawn, so it stays unperturbed.
    perturbation, translation, reference_logits_fn = "random", None, None
  return ERM(classifier, c_tx, num_classes, loss_fn, augment_fn=augment_fn,
             mixup_alpha=method.mixup_alpha if mixup else 0.0,
             companion_weight=method.fake_weight if control else 0.0,
             companion_noise_rms=method.control_noise_rms,
             companion_perturbation=perturbation,
             companion_radius_power=method.control_radius_power,
             class_counts=(None if class_counts is None
                           else tuple(int(n) for n in class_counts)),
             companion_attack_steps=method.control_attack_steps,
             companion_start_step=method.warmup_steps,
             companion_batch_norm=method.perturbed_batch_norm,
             translation=translation,
             reference_logits_fn=(reference_logits_fn
                                  if translation is not None else None))


def _game(method, classifier, c_tx, loss_fn, augment_fn, num_classes, *,
          generator_vs_classifier, config, channels, in_dtype,
          batch_sharding, reference_logits_fn, class_counts) -> WorstCaseGame:
  """The three-player game; its generator attacks C (the paper's method),
  ignores it (GAN augmentation) or helps it (Triple-GAN)."""
  del class_counts  # its re-balancing lives in loss_fn
  generator = config.model.generator
  return WorstCaseGame(
      generator=in_dtype(models.create_generator(
          generator.name, num_classes, channels, generator.width,
          generator.perturbation_bound, generator.max_residual_rms,
          generator.residual_rms_mode)),
      critic=in_dtype(models.create_critic(
          config.model.critic.name, num_classes, config.model.critic.width)),
      classifier=classifier,
      generator_tx=gan_optimizer(
          config.optim.generator, config.schedule.num_train_steps,
          0 if method.gan_during_warmup else method.warmup_steps),
      critic_tx=gan_optimizer(config.optim.critic),
      classifier_tx=c_tx,
      num_classes=num_classes,
      latent_dim=generator.latent_dim,
      eps=method.eps,
      divergence=method.divergence,
      gp_weight=method.gp_weight,
      n_critic=method.n_critic,
      fake_weight=method.fake_weight,
      real_weight=method.real_weight,
      label_sampling=method.label_sampling,
      warmup_steps=method.warmup_steps,
      generator_vs_classifier=generator_vs_classifier,
      augment_fn=augment_fn,
      real_loss_fn=loss_fn,
      batch_sharding=batch_sharding,
      critic_data=method.critic_data,
      transport_weight=method.transport_weight,
      gan_during_warmup=method.gan_during_warmup,
      critic_augment_fn=(augment.DiffAugment() if method.critic_augment
                         else None),
      reference_logits_fn=reference_logits_fn,
      # Without the reference (a method built to evaluate or sample a
      # finished run), nothing is filtered: only training filters.
      fake_filter=(method.fake_filter if reference_logits_fn is not None
                   else "none"),
      fake_filter_threshold=method.fake_filter_threshold,
      generator_fidelity_weight=(method.generator_fidelity_weight
                                 if reference_logits_fn is not None else 0.0),
      generator_ema_decay=method.generator_ema_decay,
      perturbed_batch_norm=method.perturbed_batch_norm)


# Each method's builder, by name; docs/METHODS.md has a paragraph on each.
# The re-weighted and logit-adjusted losses are not methods of their own:
# config.loss.name selects them for any method.
_BUILDERS: Dict[str, Callable[..., Method]] = {
    "worst_case": functools.partial(_game, generator_vs_classifier=1.0),
    "gan_augment": functools.partial(_game, generator_vs_classifier=0.0),
    "triple_gan": functools.partial(_game, generator_vs_classifier=-1.0),
    "erm": _erm,
    "mixup": functools.partial(_erm, mixup=True),
    "seed_control": functools.partial(_erm, control=True),
}
METHODS = tuple(_BUILDERS) + tuple(PRESETS)


def validate(method: ml_collections.ConfigDict) -> None:
  """Checks config.method (which method, and the game's and the
  baselines' knobs) before anything is built: one line per problem."""
  check_one_of("method.name", method.name, METHODS)
  check_positive_int("method.n_critic", method.n_critic)
  if not method.eps > 0:
    raise ConfigError(f"method.eps must be > 0 (lambda = 1/eps), got "
                      f"{method.eps}; the paper's best is 0.3")
  check_one_of("method.divergence", method.divergence, ("wasserstein", "js"))
  check_one_of("method.label_sampling", method.label_sampling,
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
  check_one_of("method.critic_data", method.critic_data, ("batch", "balanced"))
  if method.transport_weight < 0:
    raise ConfigError(f"method.transport_weight must be >= 0, got "
                      f"{method.transport_weight}")
  if method.control_noise_rms < 0:
    raise ConfigError(f"method.control_noise_rms must be >= 0, got "
                      f"{method.control_noise_rms}")
  check_one_of("method.control_perturbation", method.control_perturbation,
               COMPANION_PERTURBATIONS)
  if method.control_radius_power and (
      method.control_perturbation not in FEATURE_PERTURBATIONS):
    raise ConfigError(
        f"method.control_radius_power={method.control_radius_power} scales "
        f"a feature-space radius per class; set method.control_perturbation "
        f"to one of {FEATURE_PERTURBATIONS} or the power to 0")
  check_positive_int("method.control_attack_steps",
                     method.control_attack_steps)
  _validate_translation(method)
  check_one_of("method.perturbed_batch_norm", method.perturbed_batch_norm,
               PERTURBED_BATCH_NORMS)
  check_one_of("method.fake_filter", method.fake_filter,
               objectives.FAKE_FILTERS)
  if method.fake_filter != "none":
    _require_reference(method, f"method.fake_filter={method.fake_filter!r}")
  if method.generator_fidelity_weight < 0:
    raise ConfigError(f"method.generator_fidelity_weight must be >= 0, got "
                      f"{method.generator_fidelity_weight}")
  if method.generator_fidelity_weight:
    _require_reference(method, "method.generator_fidelity_weight")
  if not 0 < method.fake_filter_threshold <= 1:
    raise ConfigError(f"method.fake_filter_threshold must be in (0, 1], got "
                      f"{method.fake_filter_threshold}")
  if not 0 <= method.generator_ema_decay < 1:
    raise ConfigError(f"method.generator_ema_decay must be in [0, 1) (0 = "
                      f"no average of G; e.g. 0.999), got "
                      f"{method.generator_ema_decay}")
  if method.gp_weight < 0:
    raise ConfigError(f"method.gp_weight must be >= 0, got "
                      f"{method.gp_weight}")


def _require_reference(method: ml_collections.ConfigDict, what: str) -> None:
  """Stops a setting (`what`) that needs a frozen reference classifier
  when config.method.reference_run is unset."""
  if not method.reference_run:
    raise ConfigError(f"{what} needs a reference classifier: set "
                      "--config.method.reference_run=WORKDIR of a finished "
                      "run on the same data (e.g. ERM)")


def _validate_translation(method: ml_collections.ConfigDict) -> None:
  """config.method.translation, and what control_perturbation="translated"
  needs (M2m's frozen g)."""
  translation = method.translation
  check_positive_int("method.translation.steps", translation.steps)
  if not translation.step_rms > 0 or translation.start_rms < 0:
    raise ConfigError(f"method.translation.step_rms must be > 0 and "
                      f"start_rms >= 0, got {translation.step_rms}, "
                      f"{translation.start_rms}")
  if translation.classifier_weight < 0:
    raise ConfigError(f"method.translation.classifier_weight must be >= 0, "
                      f"got {translation.classifier_weight}")
  if not 0 < translation.threshold <= 1 or not 0 < translation.beta < 1:
    raise ConfigError(f"method.translation.threshold must be in (0, 1] and "
                      f"beta in (0, 1), got {translation.threshold}, "
                      f"{translation.beta}")
  if method.control_perturbation != "translated":
    return
  if method.name != "seed_control":
    raise ConfigError("method.control_perturbation='translated' acts on "
                      "seed_control's companion batch: set "
                      "--config.method.name=seed_control")
  _require_reference(method, "method.control_perturbation='translated'")
  if method.control_noise_rms:
    raise ConfigError(f"method.control_noise_rms={method.control_noise_rms} "
                      f"does nothing with translated companion rows; set it "
                      f"to 0 (method.translation sets their steps)")


def create(config: ml_collections.ConfigDict, num_classes: int,
           channels: int, class_counts: Optional[Sequence[int]] = None,
           batch_sharding: Optional[jax.sharding.Sharding] = None,
           reference_logits_fn: Optional[Callable[[jax.Array],
                                                  jax.Array]] = None
           ) -> Method:
  """The method named by `config.method.name`, with its models and
  optimisers, each built from its own subtree of `config`.

  class_counts: training images per class, which the re-balancing losses
  need to train; a method built to evaluate or sample a finished run needs
  none (its loss then refuses to be traced). reference_logits_fn: a frozen
  classifier that judges the game's samples (config.method.reference_run,
  loaded by the driver), or None.
  """
  config = with_preset(config)
  method, model = config.method, config.model
  if method.name not in _BUILDERS:
    raise ConfigError(f"unknown method {method.name!r}; choose one of "
                      f"{list(METHODS)}")
  in_dtype = lambda module: _in_compute_dtype(model.compute_dtype, module)
  classifier = in_dtype(models.create_classifier(
      model.classifier.name, num_classes, model.classifier.dropout_rate,
      model.classifier.use_batchnorm, model.classifier.head))
  c_tx = classifier_optimizer(config.optim.classifier,
                              config.schedule.num_train_steps)
  loss_fn = classification_losses.make_loss(
      loss_spec(config.loss),
      None if class_counts is None else np.asarray(class_counts))
  return _BUILDERS[method.name](
      method, classifier, c_tx, loss_fn, augmentation(config.data.augment),
      num_classes, config=config, channels=channels, in_dtype=in_dtype,
      batch_sharding=batch_sharding, reference_logits_fn=reference_logits_fn,
      class_counts=class_counts)
