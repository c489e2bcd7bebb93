"""Training methods, selected by `config.method.name`; each is a
`protocol.Method`: init, the pure step the driver jits, the classifier
evaluation scores, samples for grids and feature plots, and whether the
step needs a class-balanced companion batch.
"""

import dataclasses
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


def gan_optimizer(opt: ml_collections.ConfigDict
                  ) -> optax.GradientTransformation:
  """Adam for G or D (`opt` is config.optim.generator or .critic)."""
  return skip_nonfinite(optax.adam(opt.lr, b1=opt.b1, b2=opt.b2))


def data_sampling(method_name: str, data: ml_collections.ConfigDict) -> str:
  """How the training stream samples images: "class_balanced" for the
  oversampling baseline, else data.sampling ("uniform")."""
  return ("class_balanced" if method_name == "oversampling" else
          data.sampling)


def augmentation(method_name: str, options: ml_collections.ConfigDict):
  """The standard augmentation for the `augment` method or when
  config.data.augment.enabled is set (with any method), else None;
  `options` is config.data.augment."""
  if method_name != "augment" and not options.enabled:
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


def create(config: ml_collections.ConfigDict, num_classes: int,
           channels: int, class_counts: Optional[Sequence[int]] = None,
           batch_sharding: Optional[jax.sharding.Sharding] = None,
           reference_logits_fn: Optional[Callable[[jax.Array],
                                                  jax.Array]] = None
           ) -> Method:
  """The method named by `config.method.name`, with its models and optimisers.

  class_counts: training images per class, which the re-balancing losses
  need to train; a method built to evaluate or sample a finished run needs
  none (its loss then refuses to be traced). reference_logits_fn: a frozen
  classifier that judges the game's samples (config.method.reference_run, loaded
  by the driver), or None.
  """
  method, model = config.method, config.model
  in_dtype = lambda module: _in_compute_dtype(model.compute_dtype, module)
  classifier = in_dtype(models.create_classifier(
      model.classifier.name, num_classes, model.classifier.dropout_rate,
      model.classifier.use_batchnorm))
  c_tx = classifier_optimizer(config.optim.classifier,
                              config.schedule.num_train_steps)
  loss_fn = classification_losses.make_loss(
      loss_spec(config.loss),
      None if class_counts is None else np.asarray(class_counts))
  augment_fn = augmentation(method.name, config.data.augment)
  if method.name in ("erm", "oversampling", "augment", "mixup",
                     "seed_control"):
    control = method.name == "seed_control"
    return ERM(classifier, c_tx, num_classes, loss_fn, augment_fn=augment_fn,
               mixup_alpha=method.mixup_alpha if method.name == "mixup"
               else 0.0,
               companion_weight=method.fake_weight if control else 0.0,
               companion_noise_rms=method.control_noise_rms,
               companion_start_step=method.warmup_steps)
  if method.name in _GENERATOR_VS_CLASSIFIER:
    generator = model.generator
    return WorstCaseGame(
        generator=in_dtype(models.create_generator(
            generator.name, num_classes, channels, generator.width,
            generator.perturbation_bound)),
        critic=in_dtype(models.create_critic(
            model.critic.name, num_classes, model.critic.width)),
        classifier=classifier,
        generator_tx=gan_optimizer(config.optim.generator),
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
        generator_vs_classifier=_GENERATOR_VS_CLASSIFIER[method.name],
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
        fake_filter_threshold=method.fake_filter_threshold)
  raise ConfigError(f"unknown method {method.name!r}; choose one of "
                    f"{list(METHODS)}")
