"""Is a classifier's accuracy its weights' or its BatchNorm statistics'?

A network with BatchNorm is evaluated with running statistics: an
exponential moving average (momentum 0.9 in wcgen's models, so about the
last ten batches) of the batch statistics seen in training. When a run's
accuracy falls late in training, two causes look the same in the logs:
the weights got worse, or the running statistics no longer describe what
the current weights compute (they lag, or were updated on odd batches).
`precise_batch_stats` separates them, as "precise BN" does (Wu & Johnson,
"Rethinking 'Batch' in BatchNorm", 2021): it recomputes every layer's
statistics with the weights held fixed, averaged over many real training
batches. If accuracy with the recomputed statistics recovers, the fall was
the statistics'; if not, it is in the weights.

The statistics are read at each BatchNorm layer's input (a flax method
interceptor), in training mode, exactly as the layer computes them there:
per feature, over every other axis, with flax's variance E[x^2] - E[x]^2.
Nothing of the model's code changes.
"""

import os
from typing import Any, Dict, Iterable, Optional, Tuple

import flax
import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from wcgen.core import checkpointing
from wcgen.data import input_pipeline
from wcgen.errors import DataError
from wcgen.eval import features
from wcgen.eval import fidelity

PyTree = Any


def _reduction_axes(bn: nn.BatchNorm, ndim: int) -> Tuple[int, ...]:
  feature_axes = bn.axis if isinstance(bn.axis, tuple) else (bn.axis,)
  feature_axes = {a % ndim for a in feature_axes}
  return tuple(a for a in range(ndim) if a not in feature_axes)


def batch_statistics(module: nn.Module, variables: Dict[str, PyTree],
                     images: jax.Array, rngs: Optional[Dict[str,
                                                            jax.Array]] = None,
                     **kwargs) -> PyTree:
  """{'mean', 'var'} of every BatchNorm layer's input for this one batch,
  `module` applied in training mode (`train=True`, batch statistics and
  dropout as in training); a tree shaped like variables["batch_stats"].

  Pure: jit it with `module` and `kwargs` closed over.
  """
  captured = {}

  def capture(next_fun, args, call_kwargs, context):
    if (isinstance(context.module, nn.BatchNorm) and
        context.method_name == "__call__"):
      x = jnp.asarray(args[0], jnp.float32)
      axes = _reduction_axes(context.module, x.ndim)
      mean = jnp.mean(x, axes)
      var = jnp.maximum(jnp.mean(jnp.square(x), axes) - jnp.square(mean), 0.)
      captured[tuple(context.module.path)] = (mean, var)
    return next_fun(*args, **call_kwargs)

  with nn.intercept_methods(capture):
    module.apply(variables, images, train=True, rngs=rngs,
                 mutable=["batch_stats"], **kwargs)
  flat = {}
  for path, (mean, var) in captured.items():
    flat[path + ("mean",)] = mean
    flat[path + ("var",)] = var
  return flax.traverse_util.unflatten_dict(flat)


def precise_batch_stats(module: nn.Module, variables: Dict[str, PyTree],
                        batches: Iterable[jax.Array], rng: jax.Array,
                        **kwargs) -> PyTree:
  """Every BatchNorm layer's statistics recomputed with the weights of
  `variables` held fixed: the mean over `batches` (equal-sized batches of
  real training images) of each batch's own statistics. Same tree as
  variables["batch_stats"], ready to replace it for evaluation.

  Raises ValueError when `batches` is empty or the model's BatchNorm layers
  do not match variables["batch_stats"].
  """
  stats_of = jax.jit(lambda v, x, key: batch_statistics(
      module, v, x, rngs={"dropout": key}, **kwargs))
  total, count = None, 0
  for i, images in enumerate(batches):
    stats = stats_of(variables, images, jax.random.fold_in(rng, i))
    total = stats if total is None else jax.tree.map(jnp.add, total, stats)
    count += 1
  if not count:
    raise ValueError("precise_batch_stats needs at least one batch of "
                     "training images")
  mean = jax.tree.map(lambda t: t / count, total)
  stored = variables.get("batch_stats", {})
  if (jax.tree.structure(mean) != jax.tree.structure(stored) or
      any(a.shape != b.shape for a, b in zip(jax.tree.leaves(mean),
                                             jax.tree.leaves(stored)))):
    raise ValueError("the model's BatchNorm layers do not match the "
                     "variables' batch_stats; give the variables this model "
                     "was trained with")
  return mean


def relative_difference(a: PyTree, b: PyTree) -> Dict[str, float]:
  """{layer/stat: mean |a - b| / mean |b|} of two batch_stats trees."""
  out = {}
  for path, x in flax.traverse_util.flatten_dict(a).items():
    y = flax.traverse_util.flatten_dict(b)[path]
    out["/".join(path)] = float(jnp.mean(jnp.abs(x - y)) /
                                (jnp.mean(jnp.abs(y)) + 1e-12))
  return out


def parameter_norms(params: PyTree) -> Dict[str, float]:
  """{layer/parameter: L2 norm}: how far weight decay, or a loss that
  rewards scale, has moved each weight's size."""
  return {"/".join(path): float(jnp.linalg.norm(jnp.ravel(x)))
          for path, x in flax.traverse_util.flatten_dict(params).items()}


def check_run(workdir: str, num_batches: int = 100,
              split: str = "validation") -> list:
  """For every checkpoint a run keeps: its classifier's accuracy on `split`
  with the stored running statistics and with statistics recomputed over
  `num_batches` real training batches (`precise_batch_stats`), how far the
  two sets of statistics differ, and the classifier's parameter norms.

  Returns one dict per kept step, oldest first.
  """
  config, method, template = features.load_method(workdir)
  data = input_pipeline.create_datasets(config.data)
  if split == "validation" and not data.has_validation:
    raise DataError(f"{workdir} was trained without a validation split "
                    "(data.validation_per_class=0); pass --split=test")
  _, labels = data.eval_split(split)
  # The split as evaluation preprocesses it, in one batch.
  eval_set = next(data.eval_dataset(len(labels), np.arange(len(labels)),
                                    split=split).as_numpy_iterator())
  batch = config.schedule.batch_size
  train = data.train_dataset(batch, config.seed, 0, np.arange(batch))
  batches = [jnp.asarray(b["image"]) for _, b in
             zip(range(num_batches), train.as_numpy_iterator())]

  def accuracy(state):
    predicted = fidelity.predictions(method, state, eval_set["image"],
                                     config.schedule.eval_batch_size)
    return float(np.mean(predicted == eval_set["label"]))

  ckpt = checkpointing.Checkpointer(os.path.join(workdir, "checkpoints"))
  if not ckpt.all_steps:
    raise DataError(f"{workdir} has no checkpoint yet; train it first")
  rows = []
  for step in ckpt.all_steps:
    state = ckpt.restore(step, template)
    player = state.classifier
    if not player.batch_stats:
      raise DataError(f"{workdir}'s classifier has no BatchNorm; there are "
                      "no statistics to check")
    precise = precise_batch_stats(method.classifier, player.variables,
                                  batches, jax.random.PRNGKey(step))
    recomputed = state.replace(classifier=player.replace(batch_stats=precise))
    rows.append({
        "step": int(step),
        "accuracy_stored_stats": accuracy(state),
        "accuracy_recomputed_stats": accuracy(recomputed),
        "stats_relative_difference": relative_difference(player.batch_stats,
                                                         precise),
        "running_var_mean": {
            "/".join(p[:-1]): float(jnp.mean(v)) for p, v in
            flax.traverse_util.flatten_dict(player.batch_stats).items()
            if p[-1] == "var"},
        "parameter_norms": parameter_norms(player.params),
    })
  ckpt.close()
  return rows
