"""The classifiers' parameter counts against published figures, and output
shapes of every model, and the label routing of the conditional-BN
generator."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from wcgen import models
from wcgen.models import classifiers, critics, generators, layers, resnets, vgg


def _count(module, shape=(1, 32, 32, 3)):
  variables = jax.eval_shape(lambda: module.init(
      jax.random.PRNGKey(0), jnp.zeros(shape), train=False))
  return sum(x.size for x in jax.tree.leaves(variables["params"]))


@pytest.mark.parametrize("build,published", [
    # He et al. 2016, Table 6 / the LDAM-DRW code: ResNet-32 has 0.46 M.
    (resnets.resnet32, 464_154),
    # The usual CIFAR ResNet-18 / ResNet-101 (3x3 stem, no max-pool), as
    # counted by e.g. kuangliu/pytorch-cifar: 11.17 M and 42.51 M.
    (resnets.resnet18, 11_173_962),
    (resnets.resnet101, 42_512_970),
])
def test_resnet_parameter_counts(build, published):
  assert _count(build(10)) == published


def test_vgg16_parameter_count():
  # pytorch-cifar's VGG-16 has 14,728,266 parameters; its 13 convolutions
  # carry a bias that the BatchNorm after them makes redundant, which ours
  # drop: 64*2 + 128*2 + 256*3 + 512*6 = 4,224 fewer.
  assert _count(vgg.vgg16(10)) == 14_728_266 - 4_224
  no_bn = _count(vgg.vgg16(10, use_batchnorm=False))
  bn_params = 2 * (64 * 2 + 128 * 2 + 256 * 3 + 512 * 6)
  assert no_bn == 14_728_266 - bn_params


def test_batchnorm_switch_removes_every_batchnorm():
  variables = jax.eval_shape(lambda: resnets.resnet18(10, False).init(
      jax.random.PRNGKey(0), jnp.zeros((1, 32, 32, 3)), train=False))
  assert "batch_stats" not in variables


# VGG-16's five 2x2 pools need 32 px (the paper's size): no 28 px case.
@pytest.mark.parametrize("name,size,channels", [
    (name, size, channels)
    for name in ("triple_gan_cnn", "resnet32", "resnet18", "resnet101",
                 "vgg16")
    for size in (32, 28) for channels in (1, 3)
    if not (name == "vgg16" and size == 28)])
def test_classifier_output_shapes(name, size, channels):
  module = {"triple_gan_cnn": classifiers.TripleGANCNN(7),
            "resnet32": resnets.resnet32(7), "resnet18": resnets.resnet18(7),
            "resnet101": resnets.resnet101(7), "vgg16": vgg.vgg16(7)}[name]
  x = jnp.zeros((2, size, size, channels))
  out = jax.eval_shape(
      lambda: module.init_with_output(jax.random.PRNGKey(0), x, train=False,
                                      return_features=True)[0])
  logits, feats = out
  assert logits.shape == (2, 7) and feats.shape[0] == 2


def test_cosine_head_gives_the_cosines_of_features_and_class_weights():
  """Against numpy's cosines; invariant to the scale of either side, so a
  logit is bounded by 1 however large the features grow."""
  rng = np.random.default_rng(0)
  feats = rng.normal(size=(5, 16)).astype(np.float32) * 40.0
  head = layers.CosineHead(3)
  params = head.init(jax.random.PRNGKey(1), feats)
  kernel = np.asarray(params["params"]["kernel"])
  assert set(params["params"]) == {"kernel"}  # no bias
  want = (feats @ kernel) / np.outer(np.linalg.norm(feats, axis=1),
                                     np.linalg.norm(kernel, axis=0))
  got = head.apply(params, feats)
  np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
  scaled = {"params": {"kernel": kernel * np.array([0.1, 1.0, 9.0])}}
  np.testing.assert_allclose(head.apply(scaled, 1e-3 * feats), want,
                             rtol=1e-4, atol=1e-5)
  assert np.all(np.abs(got) <= 1.0 + 1e-6)
  # A zero feature row gives zero logits, not NaN (the norm's floor).
  assert np.all(head.apply(params, np.zeros((1, 16), np.float32)) == 0)


@pytest.mark.parametrize("name", ["triple_gan_cnn", "resnet32", "vgg16"])
def test_every_classifier_takes_the_cosine_head(name):
  module = models.create_classifier(name, 4, head="cosine")
  x = jax.random.normal(jax.random.PRNGKey(0), (3, 32, 32, 1))
  variables = module.init(jax.random.PRNGKey(0), x, train=False)
  logits, feats = module.apply(variables, x, train=False,
                               return_features=True)
  last = [k for k in variables["params"] if k.startswith("CosineHead")]
  assert len(last) == 1 and not any(
      k.startswith("Dense") for k in variables["params"])
  kernel = np.asarray(variables["params"][last[0]]["kernel"])
  f = np.asarray(feats)
  want = (f @ kernel) / np.outer(np.linalg.norm(f, axis=1),
                                 np.linalg.norm(kernel, axis=0))
  np.testing.assert_allclose(logits, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("channels", [1, 3])
def test_generator_and_critic_shapes(channels):
  g = generators.DCGANGenerator(10, channels, 8)
  z, y = jnp.zeros((3, 16)), jnp.arange(3)
  images = jax.eval_shape(lambda: g.init_with_output(
      jax.random.PRNGKey(0), z, y, train=False)[0])
  assert images.shape == (3, 32, 32, channels)
  d = critics.ProjectionCritic(10, 8)
  scores = jax.eval_shape(lambda: d.init_with_output(
      jax.random.PRNGKey(0), jnp.zeros((3, 32, 32, channels)), y)[0])
  assert scores.shape == (3,)


def test_conditional_bn_generator_routes_the_label_through_every_norm():
  """dcgan_cbn: a class's BatchNorm embedding changes only its own images."""
  g = generators.DCGANGenerator(10, 1, 8, conditional_bn=True)
  z = jax.random.normal(jax.random.PRNGKey(1), (4, 16))
  y = jnp.array([0, 3, 3, 7])
  variables = g.init(jax.random.PRNGKey(0), z, y, train=False)
  norms = [k for k in variables["params"] if "ConditionalBatchNorm" in k]
  assert len(norms) == 3  # the dense seed and both hidden up-convolutions
  before = g.apply(variables, z, y, train=False)
  params = jax.tree_util.tree_map(lambda p: p, variables["params"])
  last = params[norms[-1]]["Embed_1"]["embedding"]
  params[norms[-1]]["Embed_1"]["embedding"] = last.at[3].set(1.0)
  after = g.apply({**variables, "params": params}, z, y, train=False)
  changed = np.abs(np.asarray(after - before)).reshape(4, -1).max(axis=1)
  assert changed[1] > 1e-3 and changed[2] > 1e-3
  np.testing.assert_array_equal(changed[[0, 3]], 0.0)
