"""Mixed precision for any Flax module: float32 weights, bfloat16 compute.

`MixedPrecision(module, jnp.bfloat16)` has the module's `init` and `apply`
(what wcgen's methods call), so the game, the baselines and user models
take it unchanged. Parameters and optimizer states stay float32 (the
master copy the optimizer updates); each `apply` casts the floating
parameters, BatchNorm statistics and inputs to the compute dtype, and the
floating outputs (logits, critic scores, images) and updated statistics
back to float32, so losses, gradients' accumulation and running statistics
are float32. On GPUs and TPUs this halves activation memory and runs the
convolutions on bfloat16 units; on CPU it is usually slower.
"""

import dataclasses
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp


def _cast_floats(tree: Any, dtype) -> Any:
  return jax.tree.map(
      lambda x: x.astype(dtype) if (hasattr(x, "dtype") and
                                    jnp.issubdtype(x.dtype, jnp.floating))
      else x, tree)


@dataclasses.dataclass(frozen=True)
class MixedPrecision:
  """A module whose computation runs in `compute_dtype`."""
  module: nn.Module
  compute_dtype: Any = jnp.bfloat16

  def init(self, rngs, *args, **kwargs):
    """float32 variables, exactly as the wrapped module's."""
    return self.module.init(rngs, *args, **kwargs)

  def apply(self, variables, *args, mutable=False, **kwargs):
    """The module applied in compute_dtype; float32 out (and mutated
    collections, if any)."""
    out = self.module.apply(_cast_floats(variables, self.compute_dtype),
                            *_cast_floats(args, self.compute_dtype),
                            mutable=mutable,
                            **_cast_floats(kwargs, self.compute_dtype))
    return _cast_floats(out, jnp.float32)

  def __getattr__(self, name):
    """The wrapped module's other attributes (e.g. takes_seed_images)."""
    if name == "module":  # not set yet (e.g. while unpickling)
      raise AttributeError(name)
    return getattr(self.module, name)
