"""The worst-case game of Eq. 10 (and its JS variant, Eq. 14) as one step.

`WorstCaseGame` is usable without the rest of wcgen: give it your own Flax
modules and optax optimisers, `jax.jit(game.train_step)`, and call it in
your own loop. Module contracts:

* generator(z [B, Z], labels [B], train: bool) -> images [B, H, W, C]
* critic(images, labels [B]) -> scores [B]           (no BatchNorm; a
  critic with spectral norm takes update_stats: bool and keeps its vectors
  in `batch_stats`)
* classifier(images, train: bool) -> logits [B, K]   (may use BatchNorm and
  the 'dropout' rng)

One step = `n_critic` critic updates (unrolled inside the same
program), then one generator update, then one classifier update:

* critic: minimises E_Q[D] - E_P[D] + gp_weight * GP (Wasserstein) or the
  GAN discriminator loss (JS). Its fake images are generated for the real
  batch's labels, so each real/fake pair of the gradient penalty shares a
  label and the distance compares matching class marginals.
* generator: maximises lam * D(G(z, y), y) + CE(C(G(z, y)), y) with
  lam = 1 / epsilon (JS: lam * log sigmoid D). Its labels are drawn
  class-balanced by default, so rare classes get as many worst-case samples
  as common ones. C is applied in inference mode: G attacks the classifier
  as it would be deployed.
* classifier: minimises fake_weight * CE on those generated images (held
  fixed) + real_weight * CE on the real batch. The two batches go through
  C in separate passes (one, under "real_batch" below), so BatchNorm's running statistics (used at test
  time) come from real images only; the generated batch is normalised by
  its own statistics, with `perturbed_batch_norm="running"` by those
  running statistics (C in inference mode, as G attacks it), or with
  "real_batch" by the real batch's statistics in one joint pass. With
  `generator_ema_decay` > 0, the images C trains on are drawn (same z,
  labels and seeds) by an exponential moving average of G's weights
  instead (issue 15's lever 2:
  the averaged G of BigGAN and StyleGAN, whose samples are steadier than
  the raw G's); G's own update still uses the raw G.
"""

import dataclasses
from typing import Any, Callable, Dict, Optional, Tuple

import flax.linen as nn
import flax
import jax
import jax.numpy as jnp
import optax

from wcgen import objectives
from wcgen.core.state import PERTURBED_BATCH_NORMS, PlayerState, accuracy
from wcgen.core.state import apply_to_perturbed, apply_with_stats
from wcgen.core.state import apply_with_real_statistics

PyTree = Any
Batch = Dict[str, jax.Array]


@flax.struct.dataclass
class GameState:
  """Everything that changes during training; a pytree, checkpointable."""
  step: jax.Array
  rng: jax.Array  # base key; step t uses fold_in(rng, t)
  generator: PlayerState
  critic: PlayerState
  classifier: PlayerState


@flax.struct.dataclass
class AveragedGameState(GameState):
  """GameState with a moving average of G's weights (generator_ema_decay
  > 0). A class of its own so that the default game's state, and so every
  checkpoint saved without an average, keeps GameState's exact tree."""
  # optax.ema's state over G's parameters (biased; the game's
  # `generator_ema_params` debiases it).
  generator_ema: PyTree = None


@dataclasses.dataclass(frozen=True)
class WorstCaseGame:
  """The three players, their optimisers and the game's hyperparameters."""
  generator: nn.Module
  critic: nn.Module
  classifier: nn.Module
  generator_tx: optax.GradientTransformation
  critic_tx: optax.GradientTransformation
  classifier_tx: optax.GradientTransformation
  num_classes: int
  latent_dim: int = 128
  eps: float = 0.3  # Wasserstein-ball radius; lam = 1 / eps
  divergence: str = "wasserstein"  # or "js" (Eq. 14)
  gp_weight: float = 10.0
  n_critic: int = 1
  fake_weight: float = 1.0
  real_weight: float = 1.0
  label_sampling: str = "balanced"  # or "data": G uses the batch's labels
  # Steps during which G plays a plain conditional GAN (no CE term) and C
  # sees only real data: the game starts once G draws class-like images.
  warmup_steps: int = 0
  # Sign of C's cross-entropy in G's objective: +1, G attacks C (the
  # paper's worst case); 0, G ignores C (GAN augmentation, DAGAN-style);
  # -1, G helps C (the cooperative generator of Triple-GAN, the contrast the
  # paper draws). C's training on G's samples is the same in all three.
  generator_vs_classifier: float = 1.0
  # fn(key, images) -> images applied to C's real batch (wcgen.augment).
  augment_fn: Optional[Callable[[jax.Array, jax.Array], jax.Array]] = None
  # Loss of C on the real batch, fn(logits, labels, step). A re-weighted or
  # logit-adjusted loss here combines the worst case with re-balancing.
  # Generated images are class-balanced and keep plain CE.
  real_loss_fn: Callable[[jax.Array, jax.Array, jax.Array],
                         jax.Array] = objectives.step_cross_entropy
  # Sharding of batch-major arrays drawn inside the step (z, labels). With
  # sharded inputs and no constraint, XLA may compute them on every device.
  batch_sharding: Optional[jax.sharding.Sharding] = None
  # Real images the critic sees: "batch" (the training batch, with the
  # data's label mix) or "balanced" (the batch's class-balanced companion,
  # batch["balanced_image"/"balanced_label"]; G's samples for D then use
  # the same balanced labels), so every class's part of the Wasserstein
  # estimate is trained on as many rows.
  critic_data: str = "batch"
  # With a per-sample generator (one whose `takes_seed_images` is set,
  # e.g. models.ResidualPerturber), weight of the explicit transport cost
  # mean ||G(x_i, y_i, z) - x_i||^2 (per pixel) in G's loss, the
  # Lagrangian term of Eq. 4-5 in the form of Sinha et al.'s WRM; 0 leaves
  # the ball to the critic alone, as Eq. 10 does.
  transport_weight: float = 0.0
  # False: during the warm-up, G and D are frozen and the driver runs
  # `classifier_only_step` (C on the real batch, exactly C's update of the
  # joint step then) instead of the joint step: half the cost of a run with
  # a half-budget warm-up. For a per-sample G, which is the identity at
  # the start and needs no GAN pre-training; the paper's G(z, y) needs its
  # warm-up to learn to draw classes (True).
  gan_during_warmup: bool = True
  # fn(key, images) -> images applied to every input of the critic, real
  # and generated alike (wcgen.augment.DiffAugment), or None.
  critic_augment_fn: Optional[Callable[[jax.Array, jax.Array],
                                       jax.Array]] = None
  # fn(images) -> logits of a frozen reference classifier trained on the
  # real data (e.g. a finished ERM run's), or None. With it, every step
  # logs `reference_acc_fake`, the class fidelity of Q (whether G's
  # samples still look like their class to a classifier the game did not
  # shape), and `fake_filter` can weight C's loss on each generated image
  # by it (objectives.fidelity_weights; issue 15's lever 5, after M2m).
  reference_logits_fn: Optional[Callable[[jax.Array], jax.Array]] = None
  fake_filter: str = "none"  # "probability" or "threshold"
  fake_filter_threshold: float = 0.5
  # Weight of the reference's cross-entropy on G's samples in G's loss
  # (needs reference_logits_fn): G is then asked for images that C gets
  # wrong and a classifier trained on the real data still gives their
  # class -- a worst case that keeps its class, where the filter above
  # only drops the samples that left theirs (and so stops C from pulling
  # G back). 0 leaves G's loss as Eq. 10's.
  generator_fidelity_weight: float = 0.0
  # Decay of an exponential moving average of G's parameters (optax.ema,
  # debiased, so the first steps are not pulled towards the random init);
  # > 0: C trains on the averaged G's samples and `sample` draws from it.
  # 0 = no average (Eq. 10's G, the default).
  generator_ema_decay: float = 0.0
  # How C sees G's samples in its own loss (core.state.PERTURBED_BATCH_NORMS):
  # "own", training mode, BatchNorm on the generated batch's own statistics
  # (Eq. 10 leaves it open; the default); "running", inference mode,
  # BatchNorm on the real data's running statistics and no dropout: C then
  # learns Q in the mode G attacks it in and evaluation scores it in;
  # "real_batch", one training-mode pass over the real batch and G's
  # samples, both normalised by the real rows' batch statistics, with the
  # gradient through them (core.state.apply_with_real_statistics).
  perturbed_batch_norm: str = "own"

  def __post_init__(self):
    if self.divergence not in ("wasserstein", "js"):
      raise ValueError(f"divergence must be 'wasserstein' or 'js', got "
                       f"{self.divergence!r}")
    if self.label_sampling not in ("balanced", "data"):
      raise ValueError(f"label_sampling must be 'balanced' or 'data', got "
                       f"{self.label_sampling!r}")
    if self.critic_data not in ("batch", "balanced"):
      raise ValueError(f"critic_data must be 'batch' or 'balanced', got "
                       f"{self.critic_data!r}")
    if self.transport_weight < 0:
      raise ValueError(f"transport_weight must be >= 0, got "
                       f"{self.transport_weight}")
    if self.fake_filter not in objectives.FAKE_FILTERS:
      raise ValueError(f"fake_filter must be one of "
                       f"{objectives.FAKE_FILTERS}, got {self.fake_filter!r}")
    if self.fake_filter != "none" and self.reference_logits_fn is None:
      raise ValueError(f"fake_filter={self.fake_filter!r} needs a reference "
                       "classifier (reference_logits_fn)")
    if self.generator_fidelity_weight < 0:
      raise ValueError(f"generator_fidelity_weight must be >= 0, got "
                       f"{self.generator_fidelity_weight}")
    if self.generator_fidelity_weight and self.reference_logits_fn is None:
      raise ValueError("generator_fidelity_weight needs a reference "
                       "classifier (reference_logits_fn)")
    if self.perturbed_batch_norm not in PERTURBED_BATCH_NORMS:
      raise ValueError(f"perturbed_batch_norm must be one of "
                       f"{PERTURBED_BATCH_NORMS}, got "
                       f"{self.perturbed_batch_norm!r}")
    if not 0 <= self.generator_ema_decay < 1:
      raise ValueError(f"generator_ema_decay must be in [0, 1), got "
                       f"{self.generator_ema_decay}")

  @property
  def has_generator(self) -> bool:
    return True

  @property
  def per_sample(self) -> bool:
    """Whether G is Eq. 8's per-sample G(x_i, y_i, z)."""
    return bool(getattr(self.generator, "takes_seed_images", False))

  @property
  def frozen_warmup_steps(self) -> int:
    """Steps 0 .. this-1 run `classifier_only_step` (G and D frozen)."""
    return 0 if self.gan_during_warmup else self.warmup_steps

  @property
  def needs_balanced_batch(self) -> bool:
    """Whether train_step reads batch["balanced_image"/"balanced_label"], a
    class-balanced stream beside the training batch (the driver then
    provides it)."""
    return self.per_sample or self.critic_data == "balanced"

  @property
  def lam(self) -> float:
    return 1.0 / self.eps

  # ---------------------------------------------------------------- init --
  def init(self, rng: jax.Array, image_shape: Tuple[int, int, int]) -> GameState:
    """Initial state for images of `image_shape` (H, W, C)."""
    k_g, k_d, k_c, k_drop, k_state = jax.random.split(rng, 5)
    x = jnp.zeros((2,) + tuple(image_shape), jnp.float32)
    y = jnp.zeros((2,), jnp.int32)
    z = jnp.zeros((2, self.latent_dim), jnp.float32)
    seeds = {"seeds": x} if self.per_sample else {}
    g_vars = self.generator.init(k_g, z, y, train=False, **seeds)
    d_vars = self.critic.init(k_d, x, y)
    c_vars = self.classifier.init({"params": k_c, "dropout": k_drop}, x,
                                  train=False)
    generator = PlayerState.create(g_vars, self.generator_tx)
    players = dict(step=jnp.zeros((), jnp.int32), rng=k_state,
                   generator=generator,
                   critic=PlayerState.create(d_vars, self.critic_tx),
                   classifier=PlayerState.create(c_vars, self.classifier_tx))
    if not self.generator_ema_decay:
      return GameState(**players)
    return AveragedGameState(**players,
                             generator_ema=self._ema().init(generator.params))

  # ------------------------------------------------------- G's average --
  def _ema(self) -> optax.GradientTransformation:
    return optax.ema(self.generator_ema_decay, debias=True)

  def generator_ema_params(self, state: GameState) -> Optional[PyTree]:
    """The debiased moving average of G's parameters (what C's samples
    come from), or None when the game keeps no average."""
    if not self.generator_ema_decay:
      return None
    ema = state.generator_ema
    # Before G's first update (at init, or through a frozen warm-up) the
    # average holds nothing yet: it is G itself.
    average = optax.tree.bias_correction(ema.ema, self.generator_ema_decay,
                                         jnp.maximum(ema.count, 1))
    return jax.tree.map(lambda avg, g: jnp.where(ema.count > 0, avg, g),
                        average, state.generator.params)

  # ------------------------------------------------------------- helpers --
  def _constrain(self, x: jax.Array) -> jax.Array:
    if self.batch_sharding is None:
      return x
    return jax.lax.with_sharding_constraint(x, self.batch_sharding)

  def _generate(self, gen: PlayerState, key: jax.Array, labels: jax.Array,
                params: Optional[PyTree] = None,
                seeds: Optional[jax.Array] = None
                ) -> Tuple[jax.Array, PyTree]:
    """G's images for `labels` (and, for a per-sample G, its seed images
    of those labels)."""
    z = self._constrain(
        jax.random.normal(key, (labels.shape[0], self.latent_dim)))
    variables = dict(gen.variables)
    if params is not None:
      variables["params"] = params
    kwargs = {"seeds": seeds} if self.per_sample else {}
    return apply_with_stats(self.generator, variables, z, labels, train=True,
                            **kwargs)

  def _draw_labels(self, key: jax.Array, batch_labels: jax.Array) -> jax.Array:
    if self.label_sampling == "data":
      return batch_labels
    return self._constrain(
        jax.random.randint(key, batch_labels.shape, 0, self.num_classes))

  def classifier_logits(self, state: GameState, images: jax.Array) -> jax.Array:
    """The classifier in inference mode: what evaluation uses."""
    return self.classifier.apply(state.classifier.variables, images,
                                 train=False)

  def classifier_features(self, state: GameState,
                          images: jax.Array) -> jax.Array:
    """C's penultimate features in inference mode."""
    return self.classifier.apply(state.classifier.variables, images,
                                 train=False, return_features=True)[1]

  def sample(self, state: GameState, key: jax.Array, labels: jax.Array,
             seeds: Optional[jax.Array] = None) -> jax.Array:
    """Images from Q for `labels` (generator BatchNorm in batch mode, as in
    training). A per-sample G needs `seeds`, real images of those labels."""
    if self.per_sample and seeds is None:
      raise ValueError("a per-sample generator samples around seed images: "
                       "pass seeds=real images of `labels`")
    images, _ = self._generate(state.generator, key, labels,
                               self.generator_ema_params(state), seeds)
    return images

  # --------------------------------------------------------------- losses --
  def _critic_apply(self, variables, images, labels,
                    update: bool = False) -> Tuple[jax.Array, PyTree]:
    """Critic scores, and its new `batch_stats`. A critic with state holds
    spectral norm's power-iteration vectors there (e.g. BigGAN's): they
    advance only when `update` is set, so within a loss (and the gradient
    penalty's double backward) the critic is a pure function of x."""
    if "batch_stats" not in variables:
      return self.critic.apply(variables, images, labels), {}
    if not update:
      return (self.critic.apply(variables, images, labels,
                                update_stats=False),
              variables["batch_stats"])
    scores, mutated = self.critic.apply(variables, images, labels,
                                        update_stats=True,
                                        mutable=["batch_stats"])
    return scores, mutated["batch_stats"]

  def _for_critic(self, key: jax.Array, images: jax.Array) -> jax.Array:
    """The critic's view of `images`: DiffAugment'ed when configured."""
    if self.critic_augment_fn is None:
      return images
    return self.critic_augment_fn(key, images)

  def _critic_loss(self, d_params, critic: PlayerState, real, labels, fake,
                   key) -> Tuple[jax.Array, Dict[str, jax.Array]]:
    if self.critic_augment_fn is not None:  # (keys of the GP unchanged)
      k_real, k_fake = jax.random.split(jax.random.fold_in(key, 7))
      real = self._for_critic(k_real, real)
      fake = self._for_critic(k_fake, fake)
    variables = dict(critic.variables, params=d_params)
    apply = lambda x: self._critic_apply(variables, x, labels)[0]
    d_real, d_fake = apply(real), apply(fake)
    if self.divergence == "js":
      loss = objectives.js_discriminator_loss(d_real, d_fake)
      return loss, {"d_loss": loss, "d_real": jnp.mean(d_real),
                    "d_fake": jnp.mean(d_fake)}
    gp = objectives.gradient_penalty(apply, real, fake, key)
    w_loss = objectives.wasserstein_critic_loss(d_real, d_fake)
    loss = w_loss + self.gp_weight * gp
    return loss, {"d_loss": loss, "gp": gp, "w_distance": -w_loss}

  def _game_on(self, state: GameState) -> jax.Array:
    """1.0 once the warm-up is over, else 0.0 (traced: no recompilation)."""
    return (state.step >= self.warmup_steps).astype(jnp.float32)

  def _generator_loss(self, g_params, state: GameState, key, labels,
                      seeds=None):
    fake, g_stats = self._generate(state.generator, key, labels, g_params,
                                   seeds)
    d_fake, _ = self._critic_apply(
        state.critic.variables,
        self._for_critic(jax.random.fold_in(key, 7), fake), labels)
    adversary = (d_fake if self.divergence == "wasserstein" else
                 jax.nn.log_sigmoid(d_fake))
    c_logits = self.classifier_logits(state, fake)
    loss = objectives.worst_case_generator_loss(
        adversary, c_logits, labels, self.lam,
        self.generator_vs_classifier * self._game_on(state))
    extra = {}
    if self.per_sample:
      cost = objectives.transport_cost(fake, seeds)
      loss += self.transport_weight * cost
      extra = {"transport_cost": cost,
               "perturbation_rms": jnp.sqrt(jnp.mean(
                   jnp.square(fake - seeds)))}
    if self.generator_fidelity_weight:
      # The frozen reference's weights are constants of the step: the
      # gradient reaches G's parameters through the images only.
      reference_ce = objectives.cross_entropy(
          self.reference_logits_fn(fake), labels)
      loss += self.generator_fidelity_weight * reference_ce
      extra["g_reference_ce"] = reference_ce
    # c_acc_fake_eval: C in inference mode on G's samples, i.e. what G
    # attacks and what the deployed C would score on them (c_acc_fake is
    # C in training mode: batch statistics and dropout).
    aux = {"g_loss": loss, "g_ce": objectives.cross_entropy(c_logits, labels),
           "c_acc_fake_eval": accuracy(c_logits, labels),
           "g_adversary": jnp.mean(adversary), **extra}
    return loss, (aux, fake, g_stats)

  def _classifier_loss(self, c_params, state: GameState, fake, fake_labels,
                       real, real_labels, key):
    variables = dict(state.classifier.variables, params=c_params)
    k_fake, k_real = jax.random.split(key)
    if self.perturbed_batch_norm == "real_batch":
      # One pass over both batches, normalised by the real rows' statistics
      # (core.state.apply_with_real_statistics).
      logits_real, logits_fake, c_stats = apply_with_real_statistics(
          self.classifier, variables, real, fake, rngs={"dropout": k_real})
    else:
      logits_fake, c_stats = apply_to_perturbed(
          self.classifier, variables, fake, self.perturbed_batch_norm,
          rngs={"dropout": k_fake})
    aux = {"c_acc_fake": accuracy(logits_fake, fake_labels)}
    if self.reference_logits_fn is None:
      fake_ce = objectives.cross_entropy(logits_fake, fake_labels)
    else:
      reference_logits = jax.lax.stop_gradient(
          self.reference_logits_fn(fake))
      weights = objectives.fidelity_weights(
          reference_logits, fake_labels, self.fake_filter,
          self.fake_filter_threshold)
      fake_ce = objectives.weighted_cross_entropy(logits_fake, fake_labels,
                                                  weights)
      aux.update(reference_acc_fake=accuracy(reference_logits, fake_labels),
                 fake_filter_weight=jnp.mean(weights))
    loss = self.fake_weight * self._game_on(state) * fake_ce
    if not self.real_weight:
      return loss, (dict(aux, c_loss=loss), c_stats)
    if self.perturbed_batch_norm != "real_batch":
      # A separate pass for the real batch: BatchNorm normalises each batch
      # by its own statistics, and the running statistics that evaluation
      # uses come from real images only (generated ones would skew them).
      logits_real, c_stats = apply_with_stats(self.classifier, variables,
                                              real, train=True,
                                              rngs={"dropout": k_real})
    loss += self.real_weight * self.real_loss_fn(logits_real, real_labels,
                                                 state.step)
    aux.update(c_loss=loss, c_acc_real=accuracy(logits_real, real_labels))
    return loss, (aux, c_stats)

  # ----------------------------------------------------------------- step --
  def classifier_only_step(self, state: GameState, batch: Batch
                           ) -> Tuple[GameState, Dict[str, jax.Array]]:
    """C's update on the real batch alone, G and D unchanged: during a
    warm-up (fake term off), the same update of C as the joint step makes,
    with the same random keys, at a fraction of its cost. Pure; jit it."""
    real, real_labels = batch["image"], batch["label"]
    key = jax.random.fold_in(state.rng, state.step)
    k_clf = jax.random.split(key, 4)[3]
    if self.augment_fn is not None:
      real = self.augment_fn(jax.random.fold_in(k_clf, 1), real)
    k_real = jax.random.split(k_clf)[1]

    def loss_fn(params):
      variables = dict(state.classifier.variables, params=params)
      logits, stats = apply_with_stats(self.classifier, variables, real,
                                       train=True, rngs={"dropout": k_real})
      loss = self.real_weight * self.real_loss_fn(logits, real_labels,
                                                  state.step)
      return loss, (stats, {"c_loss": loss,
                            "c_acc_real": accuracy(logits, real_labels)})

    grads, (stats, metrics) = jax.grad(loss_fn, has_aux=True)(
        state.classifier.params)
    classifier = state.classifier.apply_gradients(grads, self.classifier_tx,
                                                  stats)
    return state.replace(step=state.step + 1, classifier=classifier), metrics

  def train_step(self, state: GameState,
                 batch: Batch) -> Tuple[GameState, Dict[str, jax.Array]]:
    """One joint update of D (n_critic times), G and C. Pure; jit it."""
    real, real_labels = batch["image"], batch["label"]
    key = jax.random.fold_in(state.rng, state.step)
    k_critic, k_labels, k_gen, k_clf = jax.random.split(key, 4)
    # The critic's real rows: the batch, or its class-balanced companion.
    # A per-sample G perturbs the balanced rows, and the critic compares
    # each perturbed image with its own seed.
    if self.needs_balanced_batch:
      balanced, balanced_labels = batch["balanced_image"], batch[
          "balanced_label"]
    d_real, d_labels = ((balanced, balanced_labels)
                        if self.needs_balanced_batch else (real, real_labels))
    seeds = balanced if self.per_sample else None

    def critic_update(critic, i):
      k_fake, k_gp = jax.random.split(jax.random.fold_in(k_critic, i))
      fake, _ = self._generate(state.generator, k_fake, d_labels,
                               seeds=seeds)
      fake = jax.lax.stop_gradient(fake)
      stats = None
      if critic.batch_stats:  # one power iteration per critic update
        _, stats = self._critic_apply(critic.variables, d_real, d_labels,
                                      update=True)
        critic = critic.replace(batch_stats=stats)
      grads, aux = jax.grad(self._critic_loss, has_aux=True)(
          critic.params, critic, d_real, d_labels, fake, k_gp)
      return critic.apply_gradients(grads, self.critic_tx, stats), aux

    # A Python loop, unrolled into the one program: on XLA:CPU the same
    # convolutions inside a lax.scan/while body ran 4-5x slower.
    critic, d_metrics = state.critic, []
    for i in range(self.n_critic):
      critic, aux = critic_update(critic, i)
      d_metrics.append(aux)
    d_metrics = jax.tree.map(lambda *m: jnp.mean(jnp.stack(m)), *d_metrics)
    state = state.replace(critic=critic)

    gen_labels = (balanced_labels if self.needs_balanced_batch else
                  self._draw_labels(k_labels, real_labels))
    g_grads, (g_metrics, fake, g_stats) = jax.grad(
        self._generator_loss, has_aux=True)(state.generator.params, state,
                                            k_gen, gen_labels, seeds)
    state = state.replace(generator=state.generator.apply_gradients(
        g_grads, self.generator_tx, g_stats))
    if self.generator_ema_decay:
      # C's images: the same z, labels and seeds through the average of G
      # (its BatchNorm statistics from this pass are not kept).
      # optax.ema returns the debiased average with its new state.
      average, ema = self._ema().update(state.generator.params,
                                        state.generator_ema)
      state = state.replace(generator_ema=ema)
      fake, _ = self._generate(state.generator, k_gen, gen_labels, average,
                               seeds)

    fake = jax.lax.stop_gradient(fake)
    if self.augment_fn is not None:
      real = self.augment_fn(jax.random.fold_in(k_clf, 1), real)
    c_grads, (c_metrics, c_stats) = jax.grad(
        self._classifier_loss, has_aux=True)(state.classifier.params, state,
                                             fake, gen_labels, real,
                                             real_labels, k_clf)
    state = state.replace(classifier=state.classifier.apply_gradients(
        c_grads, self.classifier_tx, c_stats))
    metrics = {**d_metrics, **g_metrics, **c_metrics}
    return state.replace(step=state.step + 1), metrics
