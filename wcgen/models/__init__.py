"""Model zoo: builds the networks a config names."""

import ml_collections

from wcgen.errors import ConfigError
from wcgen.models.classifiers import TripleGANCNN
from wcgen.models.critics import ProjectionCritic
from wcgen.models.generators import DCGANGenerator
from wcgen.models.generators import ResidualPerturber
from wcgen.models import biggan
from wcgen.models import resnets
from wcgen.models import vgg

# "residual" is the per-sample G(x_i, y_i, z) of Eq. 8 (seed + bounded
# residual); the others draw from noise, G(z, y).
GENERATORS = ("dcgan", "dcgan_cbn", "biggan", "residual")
CRITICS = ("projection", "biggan")
# name -> fn(num_classes, use_batchnorm); the Triple-GAN CNN also takes the
# config's dropout rate.
_CLASSIFIER_FNS = {
    "vgg16": vgg.vgg16,
    "resnet18": resnets.resnet18,
    "resnet32": resnets.resnet32,
    "resnet101": resnets.resnet101,
}
CLASSIFIERS = ("triple_gan_cnn",) + tuple(_CLASSIFIER_FNS)


def _check(kind: str, name: str, known) -> None:
  if name not in known:
    raise ConfigError(f"unknown {kind} {name!r}; choose one of {list(known)}")


def create_generator(config: ml_collections.ConfigDict, num_classes: int,
                     channels: int):
  _check("generator", config.generator, GENERATORS)
  if config.generator == "biggan":  # gen_width is BigGAN's ch multiplier
    return biggan.BigGANGenerator(num_classes, channels, config.gen_width)
  if config.generator == "residual":
    return ResidualPerturber(num_classes, channels, config.gen_width,
                             config.get("perturbation_bound", 0.5))
  return DCGANGenerator(num_classes, channels, config.gen_width,
                        conditional_bn=config.generator == "dcgan_cbn")


def create_critic(config: ml_collections.ConfigDict, num_classes: int):
  _check("critic", config.critic, CRITICS)
  if config.critic == "biggan":
    return biggan.BigGANDiscriminator(num_classes, config.critic_width)
  return ProjectionCritic(num_classes, config.critic_width)


def create_classifier(config: ml_collections.ConfigDict, num_classes: int):
  _check("classifier", config.classifier, CLASSIFIERS)
  if config.classifier == "triple_gan_cnn":
    return TripleGANCNN(num_classes, config.dropout_rate,
                        config.use_batchnorm)
  return _CLASSIFIER_FNS[config.classifier](num_classes, config.use_batchnorm)
