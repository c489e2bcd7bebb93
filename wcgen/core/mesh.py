"""The device mesh every step is sharded over."""

import jax


def make_mesh() -> jax.sharding.Mesh:
  """A 1-D mesh over every device of every process: pure data parallelism.

  Auto axes: XLA propagates the batch sharding through the step (explicit
  sharding mode would need every intermediate annotated).
  """
  return jax.make_mesh((jax.device_count(),), ("data",),
                       axis_types=(jax.sharding.AxisType.Auto,))
