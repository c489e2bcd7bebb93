"""Training methods, selected by `config.method`; each shares one interface:

* `init(rng, image_shape) -> state` (a pytree with `.step`),
* `train_step(state, batch) -> (state, metrics)` (pure; the driver jits it),
* `classifier_logits(state, images) -> logits` (what evaluation scores),
* `sample(state, key, labels) -> images | None` (for sample grids).
"""

from typing import Optional, Sequence

import jax
import ml_collections
import numpy as np
import optax

from wcgen import classification_losses
from wcgen import models
from wcgen.errors import ConfigError
from wcgen.methods.erm import ERM
from wcgen.methods.worst_case import GameState, WorstCaseGame

METHODS = ("worst_case", "erm")


def classifier_optimizer(config: ml_collections.ConfigDict
                        ) -> optax.GradientTransformation:
  """AdamW with cosine decay, shared by every method's classifier."""
  opt = config.optim
  schedule = optax.cosine_decay_schedule(opt.c_lr, config.num_train_steps,
                                         alpha=opt.c_final_lr_fraction)
  return optax.adamw(schedule, b1=0.9, b2=0.999,
                     weight_decay=opt.c_weight_decay)


def create(config: ml_collections.ConfigDict, class_counts: Sequence[int],
           channels: int,
           batch_sharding: Optional[jax.sharding.Sharding] = None):
  """The method named by `config.method`, with its models and optimisers.

  class_counts: training images per class, for the re-balancing losses.
  """
  num_classes = len(class_counts)
  classifier = models.create_classifier(config, num_classes)
  c_tx = classifier_optimizer(config)
  loss_fn = classification_losses.make_loss(config, np.asarray(class_counts))
  if config.method == "erm":
    return ERM(classifier, c_tx, num_classes, loss_fn)
  if config.method == "worst_case":
    opt = config.optim
    gan_tx = lambda lr: optax.adam(lr, b1=opt.gan_b1, b2=opt.gan_b2)
    return WorstCaseGame(
        generator=models.create_generator(config, num_classes, channels),
        critic=models.create_critic(config, num_classes),
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
        real_loss_fn=loss_fn,
        batch_sharding=batch_sharding)
  raise ConfigError(f"unknown method {config.method!r}; choose one of "
                    f"{list(METHODS)}")
