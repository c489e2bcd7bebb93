"""Training methods, selected by `config.method`; each is a
`protocol.Method`: init, the pure step the driver jits, the classifier
evaluation scores, samples for grids and feature plots, and whether the
step needs a class-balanced companion batch.
"""

from typing import Callable, Optional, Sequence

import jax
import ml_collections
import numpy as np
import optax

from wcgen import augment
from wcgen import classification_losses
from wcgen import models
from wcgen.errors import ConfigError
from wcgen.methods.erm import ERM
from wcgen.methods.protocol import Method
from wcgen.methods.worst_case import GameState, WorstCaseGame
from wcgen.models.precision import MixedPrecision
from wcgen.core.state import skip_nonfinite

# Each name is one baseline or the paper's method; docs/METHODS.md has a
# paragraph on each. The re-weighted and logit-adjusted losses are not
# methods of their own: `classifier_loss` selects them for any method.
METHODS = ("worst_case", "erm", "oversampling", "mixup", "augment",
           "gan_augment", "triple_gan", "seed_control")
# How each GAN-based method's generator treats C (WorstCaseGame's
# generator_vs_classifier): attack, ignore, help.
_GENERATOR_VS_CLASSIFIER = {"worst_case": 1.0, "gan_augment": 0.0,
                            "triple_gan": -1.0}


def classifier_optimizer(config: ml_collections.ConfigDict
                        ) -> optax.GradientTransformation:
  """Adam with cosine decay and L2 weight decay, shared by every method's
  classifier.

  The decay is torch.optim.Adam's `weight_decay`: c_weight_decay * w joins
  the gradient before Adam's scaling, so the configured 5e-4 acts as
  written. (optax.adamw's decoupled decay is multiplied by the learning
  rate: 5e-4 there is 5e-7 per step at lr 1e-3, which did nothing.)
  """
  opt = config.optim
  schedule = optax.cosine_decay_schedule(opt.c_lr, config.num_train_steps,
                                         alpha=opt.c_final_lr_fraction)
  return skip_nonfinite(optax.chain(
      optax.add_decayed_weights(opt.c_weight_decay),
      optax.adam(schedule, b1=0.9, b2=0.999)))


def data_sampling(config: ml_collections.ConfigDict) -> str:
  """How the training stream samples images: "class_balanced" for the
  oversampling baseline, else config.data.sampling ("uniform")."""
  return ("class_balanced" if config.method == "oversampling" else
          config.data.sampling)


def augmentation(config: ml_collections.ConfigDict):
  """The standard augmentation for the `augment` method or when
  config.augment is set (with any method), else None."""
  if config.method != "augment" and not config.augment:
    return None
  return augment.Augmentation(crop_pad=config.augment_crop_pad,
                              flip=config.augment_flip,
                              max_rotation_deg=config.augment_rotation_deg)


def loss_spec(config: ml_collections.ConfigDict
              ) -> classification_losses.LossSpec:
  """C's loss on real images, as named by the config's fields."""
  return classification_losses.LossSpec(
      name=config.classifier_loss, cb_beta=config.cb_beta,
      cb_kind=config.cb_kind, focal_gamma=config.focal_gamma,
      la_tau=config.la_tau, ldam_max_margin=config.ldam_max_margin,
      ldam_scale=config.ldam_scale, drw_start_step=config.drw_start_step)


def _in_compute_dtype(config: ml_collections.ConfigDict, module):
  """`module`, computing in bfloat16 when config.compute_dtype says so."""
  if config.get("compute_dtype", "float32") == "bfloat16":
    return MixedPrecision(module, jax.numpy.bfloat16)
  return module


def create(config: ml_collections.ConfigDict, num_classes: int,
           channels: int, class_counts: Optional[Sequence[int]] = None,
           batch_sharding: Optional[jax.sharding.Sharding] = None,
           reference_logits_fn: Optional[Callable[[jax.Array],
                                                  jax.Array]] = None
           ) -> Method:
  """The method named by `config.method`, with its models and optimisers.

  class_counts: training images per class, which the re-balancing losses
  need to train; a method built to evaluate or sample a finished run needs
  none (its loss then refuses to be traced). reference_logits_fn: a frozen
  classifier that judges the game's samples (config.reference_run, loaded
  by the driver), or None.
  """
  classifier = _in_compute_dtype(
      config, models.create_classifier(config.classifier, num_classes,
                                       config.dropout_rate,
                                       config.use_batchnorm))
  c_tx = classifier_optimizer(config)
  loss_fn = classification_losses.make_loss(
      loss_spec(config),
      None if class_counts is None else np.asarray(class_counts))
  augment_fn = augmentation(config)
  if config.method in ("erm", "oversampling", "augment", "mixup",
                       "seed_control"):
    control = config.method == "seed_control"
    return ERM(classifier, c_tx, num_classes, loss_fn, augment_fn=augment_fn,
               mixup_alpha=config.mixup_alpha if config.method == "mixup"
               else 0.0,
               companion_weight=config.fake_weight if control else 0.0,
               companion_noise_rms=config.control_noise_rms,
               companion_start_step=config.warmup_steps)
  if config.method in _GENERATOR_VS_CLASSIFIER:
    opt = config.optim
    gan_tx = lambda lr: skip_nonfinite(
        optax.adam(lr, b1=opt.gan_b1, b2=opt.gan_b2))
    return WorstCaseGame(
        generator=_in_compute_dtype(
            config, models.create_generator(
                config.generator, num_classes, channels, config.gen_width,
                config.perturbation_bound)),
        critic=_in_compute_dtype(config,
                                 models.create_critic(config.critic,
                                                      num_classes,
                                                      config.critic_width)),
        classifier=classifier,
        generator_tx=gan_tx(opt.g_lr),
        critic_tx=gan_tx(opt.d_lr),
        classifier_tx=c_tx,
        num_classes=num_classes,
        latent_dim=config.latent_dim,
        eps=config.eps,
        divergence=config.divergence,
        gp_weight=config.gp_weight,
        n_critic=config.n_critic,
        fake_weight=config.fake_weight,
        real_weight=config.real_weight,
        label_sampling=config.label_sampling,
        warmup_steps=config.warmup_steps,
        generator_vs_classifier=_GENERATOR_VS_CLASSIFIER[config.method],
        augment_fn=augment_fn,
        real_loss_fn=loss_fn,
        batch_sharding=batch_sharding,
        critic_data=config.critic_data,
        transport_weight=config.transport_weight,
        gan_during_warmup=config.gan_during_warmup,
        critic_augment_fn=(augment.DiffAugment() if config.critic_augment
                           else None),
        reference_logits_fn=reference_logits_fn,
        # Without the reference (a method built to evaluate or sample a
        # finished run), nothing is filtered: only training filters.
        fake_filter=(config.fake_filter if reference_logits_fn is not None
                     else "none"),
        fake_filter_threshold=config.fake_filter_threshold)
  raise ConfigError(f"unknown method {config.method!r}; choose one of "
                    f"{list(METHODS)}")
