"""Training state: one pytree per player, all of it checkpointable.

Nothing random is stored beyond a base key: the key of step t is
`fold_in(rng, t)`, so a restored state continues the same random stream.
"""

from typing import Any, Dict, Optional, Tuple

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

PyTree = Any


@flax.struct.dataclass
class PlayerState:
  """Parameters, BatchNorm statistics and optimizer state of one network."""
  params: PyTree
  batch_stats: PyTree  # {} for networks without BatchNorm
  opt_state: PyTree

  @classmethod
  def create(cls, variables: Dict[str, PyTree],
             tx: optax.GradientTransformation) -> "PlayerState":
    params = variables["params"]
    return cls(params=params,
               batch_stats=variables.get("batch_stats", {}),
               opt_state=tx.init(params))

  @property
  def variables(self) -> Dict[str, PyTree]:
    if self.batch_stats:
      return {"params": self.params, "batch_stats": self.batch_stats}
    return {"params": self.params}

  def apply_gradients(self, grads: PyTree, tx: optax.GradientTransformation,
                      batch_stats: Optional[PyTree] = None) -> "PlayerState":
    """One optimizer update. New BatchNorm statistics are kept only when
    every gradient is finite: with a skipping optimizer (`skip_nonfinite`)
    a non-finite step then leaves the whole player unchanged."""
    updates, opt_state = tx.update(grads, self.opt_state, self.params)
    if batch_stats is None:
      batch_stats = self.batch_stats
    else:
      finite = all_finite(grads)
      batch_stats = jax.tree.map(lambda new, old: jnp.where(finite, new, old),
                                 batch_stats, self.batch_stats)
    return self.replace(params=optax.apply_updates(self.params, updates),
                        opt_state=opt_state, batch_stats=batch_stats)


def all_finite(tree: PyTree) -> jax.Array:
  """True iff every entry of every leaf is finite."""
  leaves = jax.tree.leaves(tree)
  return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def skip_nonfinite(tx: optax.GradientTransformation
                   ) -> optax.GradientTransformation:
  """`tx` that skips (and counts) any update with a NaN or Inf gradient.

  optax.apply_if_finite gives up skipping after max_consecutive_errors;
  here it never does: the driver stops the run instead, once the count
  passes `config.schedule.max_skipped_updates`.
  """
  return optax.apply_if_finite(tx, max_consecutive_errors=2**30)


def skipped_updates(state: PyTree) -> Dict[str, jax.Array]:
  """{player name: updates skipped so far} for each PlayerState field of a
  method's state whose optimizer is wrapped in `skip_nonfinite`."""
  counts = {}
  for name in getattr(state, "__dataclass_fields__", {}):
    player = getattr(state, name)
    if isinstance(player, PlayerState) and isinstance(
        player.opt_state, optax.ApplyIfFiniteState):
      counts[name] = player.opt_state.total_notfinite
  return counts


def apply_with_stats(module: nn.Module, variables: Dict[str, PyTree], *args,
                     rngs: Optional[Dict[str, jax.Array]] = None,
                     **kwargs) -> Tuple[jax.Array, PyTree]:
  """Applies `module` in training mode; returns (output, new batch_stats).

  Works for modules with or without BatchNorm (then the stats are {}).
  """
  if "batch_stats" in variables:
    out, mutated = module.apply(variables, *args, rngs=rngs,
                                mutable=["batch_stats"], **kwargs)
    return out, mutated["batch_stats"]
  return module.apply(variables, *args, rngs=rngs, **kwargs), {}


# How a classifier with BatchNorm sees a perturbed batch (G's samples, a
# control's perturbed companion batch) in its own loss: "own", training
# mode, the batch normalised by its own statistics (with dropout);
# "running", inference mode, normalised by the running statistics of the
# real data (no dropout) -- C as it is evaluated and as G attacks it; or
# "real_batch", one training-mode pass over the real and the perturbed
# batch in which every layer normalises both by the real rows' statistics
# (`apply_with_real_statistics`): normalised like real data, as "running",
# but differentiated through those statistics, as training mode is.
PERTURBED_BATCH_NORMS = ("own", "running", "real_batch")


def apply_with_real_statistics(module: nn.Module,
                               variables: Dict[str, PyTree], real: jax.Array,
                               perturbed: jax.Array,
                               rngs: Optional[Dict[str, jax.Array]] = None
                               ) -> Tuple[jax.Array, jax.Array, PyTree]:
  """(logits of `real`, logits of `perturbed`, new batch_stats): one
  training-mode pass over both batches in which every BatchNorm layer
  computes its statistics on the real rows only (flax BatchNorm's `mask`,
  set by a method interceptor, so no model changes) and normalises both
  batches by them. The running statistics are updated from the real rows
  alone, as in a pass over the real batch by itself.

  Why: under "running" (PERTURBED_BATCH_NORMS) the perturbed batch is
  normalised like real data, but by statistics held constant in the
  gradient, although they follow the weights a few steps later; three of
  the four running-BN runs of issue 16 lost 3.4-4 validation points in
  their last 400 steps, in their weights (launch/batch_norm_check.py:
  recomputing the statistics does not bring them back). Here the gradient flows through the
  statistics the perturbed batch is normalised by, as it does for real
  data in training mode.
  """
  n = real.shape[0]

  def real_rows_only(next_fun, args, kwargs, context):
    if (isinstance(context.module, nn.BatchNorm) and
        context.method_name == "__call__"):
      h = args[0]
      rows = (jnp.arange(h.shape[0]) < n).reshape((-1,) + (1,) *
                                                  (h.ndim - 1))
      kwargs = dict(kwargs, mask=jnp.broadcast_to(rows, h.shape))
    return next_fun(*args, **kwargs)

  with nn.intercept_methods(real_rows_only):
    logits, stats = apply_with_stats(module, variables,
                                     jnp.concatenate([real, perturbed]),
                                     train=True, rngs=rngs)
  return logits[:n], logits[n:], stats


def apply_to_perturbed(module: nn.Module, variables: Dict[str, PyTree],
                       images: jax.Array, batch_norm: str,
                       rngs: Optional[Dict[str, jax.Array]] = None
                       ) -> Tuple[jax.Array, PyTree]:
  """(logits, batch_stats) of a classifier on a perturbed batch, in the
  mode `batch_norm` names (PERTURBED_BATCH_NORMS).

  Why "running" exists: under "own" a large perturbation shifts the
  batch's statistics, BatchNorm normalises the shift away, and C can learn
  the batch without ever classifying it as deployed; the robust game of
  issue 16 trained C to 79% on its worst case in training mode while the
  same C in inference mode got 1.4% of it right. "running" leaves
  batch_stats as they were (returned unchanged).
  """
  if batch_norm == "running":
    return (module.apply(variables, images, train=False),
            variables.get("batch_stats", {}))
  if batch_norm != "own":
    raise ValueError(f"batch_norm must be 'own' or 'running' here, got "
                     f"{batch_norm!r} ('real_batch' needs the real batch: "
                     "apply_with_real_statistics)")
  return apply_with_stats(module, variables, images, train=True, rngs=rngs)


def accuracy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  return jnp.mean(jnp.argmax(logits, -1) == labels)
