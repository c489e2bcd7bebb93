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
    updates, opt_state = tx.update(grads, self.opt_state, self.params)
    return self.replace(
        params=optax.apply_updates(self.params, updates),
        opt_state=opt_state,
        batch_stats=self.batch_stats if batch_stats is None else batch_stats)


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


def accuracy(logits: jax.Array, labels: jax.Array) -> jax.Array:
  return jnp.mean(jnp.argmax(logits, -1) == labels)
