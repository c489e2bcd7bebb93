"""Model zoo: builds each network by name from its own parameters (the
methods read them from a config)."""

from wcgen.errors import ConfigError
from wcgen.errors import check_one_of
from wcgen.errors import check_positive_int
from wcgen.models.classifiers import TripleGANCNN
from wcgen.models.critics import ProjectionCritic
from wcgen.models.generators import DCGANGenerator
from wcgen.models.generators import ResidualPerturber
from wcgen.models import biggan
from wcgen.models import layers
from wcgen.models import resnets
from wcgen.models import vgg

# Each network by name: name -> fn(num_classes, channels, width,
# perturbation_bound, max_residual_rms, residual_rms_mode) for G,
# fn(num_classes, width) for D.
# A new variant is its module plus one line here (and a config preset
# naming it). "residual" is the per-sample G(x_i, y_i, z) of Eq. 8 (seed +
# bounded residual); the others draw from noise, G(z, y), and have no
# residual to bound.
_GENERATOR_FNS = {
    "dcgan": lambda k, c, width, *_: DCGANGenerator(k, c, width),
    "dcgan_cbn": lambda k, c, width, *_: DCGANGenerator(
        k, c, width, conditional_bn=True),
    "biggan": lambda k, c, width, *_: biggan.BigGANGenerator(k, c, width),
    "residual": ResidualPerturber,
}
_CRITIC_FNS = {
    "projection": ProjectionCritic,
    "biggan": biggan.BigGANDiscriminator,
}
GENERATORS = tuple(_GENERATOR_FNS)
# How the per-sample G's max_residual_rms acts: a cap, or the set size.
RESIDUAL_RMS_MODES = ("cap", "fixed")
CRITICS = tuple(_CRITIC_FNS)
# name -> fn(num_classes, use_batchnorm, head=); the Triple-GAN CNN also
# takes the config's dropout rate.
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


def validate(model) -> None:
  """Checks config.model (each network's name and size, the precision)
  before anything is built: one line per problem."""
  check_one_of("model.compute_dtype", model.compute_dtype,
               ("float32", "bfloat16"))
  for kind, known in (("generator", GENERATORS), ("critic", CRITICS),
                      ("classifier", CLASSIFIERS)):
    check_one_of(f"model.{kind}.name", model[kind].name, known)
  check_one_of("model.classifier.head", model.classifier.head, layers.HEADS)
  check_positive_int("model.generator.latent_dim",
                     model.generator.latent_dim)
  if not 0 < model.generator.perturbation_bound <= 2:
    raise ConfigError(f"model.generator.perturbation_bound must be in (0, 2] "
                      f"(images are in [-1, 1]), got "
                      f"{model.generator.perturbation_bound}")
  max_rms = model.generator.max_residual_rms
  if max_rms < 0 or (max_rms and model.generator.name != "residual"):
    raise ConfigError(
        f"model.generator.max_residual_rms={max_rms} must be >= 0, and set "
        f"only with the per-sample generator (model.generator.name="
        f"'residual', got {model.generator.name!r}); leave it at 0")
  check_one_of("model.generator.residual_rms_mode",
               model.generator.residual_rms_mode, RESIDUAL_RMS_MODES)
  if model.generator.residual_rms_mode == "fixed" and not max_rms:
    raise ConfigError(
        "model.generator.residual_rms_mode='fixed' scales every residual to "
        "model.generator.max_residual_rms; set that > 0 (and "
        "model.generator.name='residual'), or use residual_rms_mode='cap'")


def create_generator(name: str, num_classes: int, channels: int, width: int,
                     perturbation_bound: float = 0.5,
                     max_residual_rms: float = 0.0,
                     residual_rms_mode: str = "cap"):
  """G by name: "dcgan", "dcgan_cbn", "biggan" (width = its ch multiplier)
  or "residual" (Eq. 8's per-sample G, moving no pixel by more than
  perturbation_bound and no image by an RMS above max_residual_rms, when
  that is > 0; residual_rms_mode "fixed" moves every image by that RMS)."""
  _check("generator", name, GENERATORS)
  return _GENERATOR_FNS[name](num_classes, channels, width,
                              perturbation_bound, max_residual_rms,
                              residual_rms_mode)


def create_critic(name: str, num_classes: int, width: int):
  """D(x, y) by name: "projection" or "biggan"."""
  _check("critic", name, CRITICS)
  return _CRITIC_FNS[name](num_classes, width)


def create_classifier(name: str, num_classes: int, dropout_rate: float = 0.0,
                      use_batchnorm: bool = True, head: str = "linear"):
  """C by name: "triple_gan_cnn" (the only one with dropout), "resnet32",
  "resnet18", "resnet101" or "vgg16"; its last layer "linear" or "cosine"
  (layers.classifier_head)."""
  _check("classifier", name, CLASSIFIERS)
  if name == "triple_gan_cnn":
    return TripleGANCNN(num_classes, dropout_rate, use_batchnorm, head)
  return _CLASSIFIER_FNS[name](num_classes, use_batchnorm, head=head)
