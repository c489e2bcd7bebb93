"""The training driver: `train_and_evaluate(config, workdir)`.

One driver serves every method (`config.method.name`): it builds the data, the
method's state and its jitted step, resumes from the latest checkpoint in
`workdir`, and writes what a researcher looks at:

  workdir/config.json            the resolved config
  workdir/metrics.jsonl          one row per logged step (train and eval)
  workdir/events.out.tfevents.*  the same, for TensorBoard
  workdir/checkpoints/<step>/    orbax checkpoints (latest few)
  workdir/samples/step_<N>.png   generated samples, one row per class
  workdir/wall_time.json         seconds trained up to each saved step
  workdir/results.json           final accuracies, written last
"""

import dataclasses
import json
import os
import signal
import threading
import time
from typing import Any, Dict, List, Optional

from absl import logging
from clu import metric_writers
from clu import periodic_actions
from flax import traverse_util
import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec as P
import ml_collections
import numpy as np

from wcgen import classification_losses
from wcgen import methods
from wcgen.data import input_pipeline
from wcgen.data import specs
from wcgen.eval import accuracy
from wcgen.eval import features
from wcgen.eval import fidelity
from wcgen.errors import ConfigError, DataError, DivergedError, Stopped
from wcgen.errors import WcgenError
from wcgen.core import image_grid
from wcgen.core import jsonl_writer
from wcgen.core import mesh as mesh_lib
from wcgen.core import checkpointing
from wcgen.core import code_version
from wcgen.core import files
from wcgen.core import recorded_config
from wcgen.core import results as results_lib
from wcgen.core import state as state_lib
from wcgen.train import validation


def config_differences(old: Dict[str, Any],
                       config: ml_collections.ConfigDict) -> List[str]:
  """Fields (dotted) where the config dict `old` (as read from JSON) and
  `config` differ, each as "field: old -> new"."""
  flat_old = recorded_config.flat(json.loads(json.dumps(old)))
  flat_new = traverse_util.flatten_dict(
      json.loads(config.to_json_best_effort()), sep=".")
  return [f"{k}: {flat_old.get(k)!r} -> {flat_new.get(k)!r}"
          for k in sorted(set(flat_old) | set(flat_new))
          if flat_old.get(k) != flat_new.get(k)]


def _shown(differ: List[str]) -> str:
  more = f" (+{len(differ) - 6} more)" if len(differ) > 6 else ""
  return ", ".join(differ[:6]) + more


def check_same_config(config: ml_collections.ConfigDict, workdir: str) -> None:
  """Refuses to continue a run in `workdir` that had a different config, or
  whose config cannot be checked (checkpoints without config.json)."""
  path = os.path.join(workdir, "config.json")
  if not os.path.exists(path):
    if os.path.isdir(os.path.join(workdir, "checkpoints")) and os.listdir(
        os.path.join(workdir, "checkpoints")):
      raise ConfigError(f"{workdir} holds checkpoints but no config.json, so "
                        "its config cannot be checked; use a new --workdir, "
                        "or pass --allow_config_change to continue it with "
                        "this config")
    return
  try:
    with open(path) as f:
      old = json.load(f)
  except (OSError, ValueError) as e:
    raise ConfigError(f"cannot read {path} ({e}); use a new --workdir, or "
                      "pass --allow_config_change to continue the run with "
                      "this config") from None
  differ = config_differences(old, config)
  if differ:
    raise ConfigError(f"{workdir} holds a run with another config "
                      f"({_shown(differ)}); use a new --workdir, or pass "
                      "--allow_config_change to continue it anyway")


def finished_results(config: ml_collections.ConfigDict,
                     workdir: str) -> Optional[results_lib.RunResults]:
  """The results of a run of `config` finished in `workdir`, else None.

  A results.json written by another config is refused in one line (its
  results describe that config; they are never reused nor overwritten); an
  unreadable one is named in a warning and the run counts as unfinished.
  """
  path = os.path.join(workdir, "results.json")
  if not os.path.exists(path):
    return None
  try:
    results = results_lib.read(path)
  except DataError as e:
    logging.warning("%s; the run counts as unfinished", e)
    return None
  differ = config_differences(results.config, config)
  if differ:
    raise ConfigError(f"{workdir} holds a finished run of another config "
                      f"({_shown(differ)}); its results stay as they are: "
                      "use a new --workdir")
  return results


class _StopSignals:
  """Records SIGTERM (preemption) and SIGINT (Ctrl-C) so that the loop
  saves a checkpoint at the current step and stops cleanly, instead of
  abandoning an in-flight save with a traceback. A second Ctrl-C stops at
  once (Python's default), for a loop that does not reach a step end."""

  def __init__(self):
    self.received = False
    self.name = None
    self._previous = {}

  def __enter__(self):
    if threading.current_thread() is threading.main_thread():
      for sig in (signal.SIGTERM, signal.SIGINT):
        self._previous[sig] = signal.signal(sig, self._handle)
    return self

  def _handle(self, signum, frame):
    del frame
    self.name = signal.Signals(signum).name
    logging.warning("%s: saving a checkpoint and stopping.", self.name)
    self.received = True
    if signum == signal.SIGINT:  # the next Ctrl-C interrupts at once
      signal.signal(signal.SIGINT, signal.default_int_handler)

  def __exit__(self, *exc):
    for sig, previous in self._previous.items():
      signal.signal(sig, previous)


class ConsoleProgress(periodic_actions.ReportProgress):
  """clu's ReportProgress (steps/s to the writer, time per part), printing
  one console line per log step instead of setting work-unit notes:
  step, steps/s, ETA and the few training numbers of `scalars`."""

  # The numbers worth a glance on the console; the rest are in TensorBoard
  # and metrics.jsonl.
  SHOWN = ("c_loss", "c_acc_real", "c_acc_fake_eval", "w_distance",
           "perturbation_rms")

  def __init__(self, **kwargs):
    super().__init__(every_secs=None, **kwargs)
    self.scalars: Dict[str, float] = {}

  def _apply(self, step: int, t: float):
    rate = (step - self._previous_step) / max(t - self._previous_time, 1e-9)
    line = f"step {step}/{self._num_train_steps}  {rate:.2f} steps/s"
    if self._num_train_steps:
      eta = (self._num_train_steps - step) / max(rate, 1e-9)
      line += f"  ETA {periodic_actions._format_secs(eta)}"  # pylint: disable=protected-access
    shown = [f"{k}={self.scalars[k]:.4g}" for k in self.SHOWN
             if k in self.scalars]
    logging.info("%s", "  ".join([line] + shown))
    if self._writer is not None:
      self._writer.write_scalars(step, {"steps_per_sec": rate})


def _sample_grid(sample_fn, state, config, data, per_sample: bool
                 ) -> np.ndarray:
  """A fixed-noise grid of generated images, one row per class. A
  per-sample G perturbs fixed training images of each class (each row's
  first images, repeated for a rare class)."""
  num_classes = data.num_classes
  labels = jnp.repeat(jnp.arange(num_classes),
                      config.schedule.samples_per_class)
  key = jax.random.fold_in(jax.random.PRNGKey(config.seed), 0x5A3)
  kwargs = {}
  if per_sample:
    index = np.concatenate([
        np.resize(np.flatnonzero(data.train_labels == c),
                  config.schedule.samples_per_class)
        for c in range(num_classes)])
    kwargs["seeds"] = jnp.asarray(input_pipeline.preprocess_images(
        data.train_images[index], data.image_shape[0]).numpy())
  images = sample_fn(state, key, labels, **kwargs)
  return image_grid.make_grid(np.asarray(jax.device_get(images)),
                              rows=num_classes)


def _check_skipped(skipped: Dict[str, int], limit: int, step: int,
                   since: int, last_checkpoint) -> None:
  """Stops the run once the players' optimizers have skipped more than
  `limit` non-finite updates in all; the last checkpoint stays intact."""
  total = sum(skipped.values())
  if total > limit:
    who = ", ".join(f"{k.replace('skipped_updates_', '')} {v}"
                    for k, v in skipped.items() if v)
    raise DivergedError(
        f"{total} updates with NaN/Inf gradients skipped ({who}), more than "
        f"max_skipped_updates={limit}, by the end of steps {max(since, 1)}-"
        f"{step}; lower the learning rates or raise the limit; the "
        f"checkpoint of step {last_checkpoint} is intact")


def _split_results(prefix: str, result: Optional[Dict[str, Any]],
                   train_counts) -> Dict[str, Any]:
  """results.json's fields for one evaluated split (None when the split
  was not read: no validation split, or evaluate_test=False)."""
  result = result or {}
  per_class = result.get("per_class_accuracy")
  return {
      f"{prefix}_accuracy": result.get("accuracy"),
      f"{prefix}_balanced_accuracy": result.get("balanced_accuracy"),
      f"{prefix}_per_class_accuracy": per_class,
      # Many (> 100 training images) / medium / few (< 20) shot classes.
      f"{prefix}_shot_accuracy": (accuracy.shot_group_accuracy(
          per_class, train_counts) if per_class is not None else None),
  }


def _mean_metrics(history) -> Dict[str, float]:
  """Each metric's mean over the steps that report it (a frozen warm-up
  step reports C's metrics only)."""
  history = jax.device_get(history)
  keys = sorted({k for m in history for k in m})
  return {k: float(np.mean([m[k] for m in history if k in m])) for k in keys}


def correct_counts_fn(method, offset: jax.Array, num_classes: int,
                      mesh: jax.sharding.Mesh):
  """The jitted evaluation step: (state, sharded eval batch) -> per-class
  (correct, total) of the method's classifier (inference mode), with the
  post-hoc logit `offset` subtracted."""
  return jax.jit(
      lambda s, b: accuracy.correct_counts(
          method.classifier_logits(s, b["image"]) - offset, b["label"],
          b["mask"], num_classes),
      in_shardings=(NamedSharding(mesh, P()), NamedSharding(mesh, P("data"))),
      out_shardings=NamedSharding(mesh, P()))


def reference_classifier(config: ml_collections.ConfigDict):
  """fn(images) -> logits of config.method.reference_run's classifier in
  inference mode, its weights frozen as constants of the step; None when unset."""
  if not config.method.reference_run:
    return None
  return frozen_classifier(config.method.reference_run, config)


def frozen_classifier(run: str, config: ml_collections.ConfigDict,
                      field: str = "reference_run"):
  """fn(images) -> logits of the finished `run`'s classifier in inference
  mode, its weights frozen as constants; refused unless `run` was trained
  on config's data at its size. `field` names the setting in errors."""
  try:
    ref_config, ref_method, ref_state = features.load_run(run)
  except DataError as e:
    raise DataError(f"{field}: {e}") from None
  if (ref_config.data.name, ref_config.data.image_size) != (
      config.data.name, config.data.image_size):
    raise ConfigError(
        f"{field} {run} was trained on "
        f"{ref_config.data.name} at {ref_config.data.image_size} px, this run "
        f"uses {config.data.name} at {config.data.image_size} px; give a "
        "reference trained on the same data")
  # Host copies: embedded in the jitted step as constants, whatever the
  # step's device mesh.
  ref_state = jax.tree.map(np.asarray, jax.device_get(ref_state))
  return lambda images: ref_method.classifier_logits(ref_state, images)


class _WallTime:
  """Seconds a run has trained, across the processes that resumed it.

  Each checkpoint save also records, in WORKDIR/wall_time.json, the
  seconds trained up to its step; a process that resumes from step S adds
  S's record to its own time, so results.json's `wall_time_sec_total` is
  the whole run's (None when the record of S is missing: a checkpoint
  saved before wcgen kept this file). The record is written by the chief
  only, and atomically.
  """

  FILE = "wall_time.json"

  def __init__(self, workdir: str, start_step: int, t_start: float,
               is_chief: bool):
    self._path = os.path.join(workdir, self.FILE)
    self._t_start = t_start
    self._is_chief = is_chief
    self._recorded = {}
    try:
      with open(self._path) as f:
        self._recorded = dict(json.load(f))
    except FileNotFoundError:
      pass
    except (OSError, ValueError, TypeError) as e:  # unreadable: not recorded
      logging.warning("%s is unreadable (%s); this run's total wall time "
                      "will not be recorded", self._path, e)
    self._before = (0.0 if not start_step else
                    self._recorded.get(str(start_step)))

  def total(self) -> Optional[float]:
    if self._before is None:
      return None
    return self._before + time.time() - self._t_start

  def record(self, step: int) -> None:
    total = self.total()
    if not self._is_chief or total is None:
      return
    self._recorded[str(step)] = total
    files.atomic_write_json(self._path, self._recorded)


def train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                       allow_config_change: bool = False
                       ) -> results_lib.RunResults:
  """Trains `config.method.name` and evaluates it; returns its results
  (also written to WORKDIR/results.json).

  If the process receives SIGTERM or SIGINT, it saves a checkpoint at the
  current step and raises `errors.Stopped` (its step and signal) without
  writing results; the same call later resumes from there. A run already finished in
  `workdir` with this config returns its results.json untouched (no
  re-evaluation, no new rows); one finished with another config is refused
  even with `allow_config_change`. The workdir is held by one process at a
  time (files.WorkdirLock).
  """
  validation.validate_config(config, jax.device_count())
  is_chief = jax.process_index() == 0
  created = not os.path.exists(workdir)
  files.make_workdir(workdir)
  lock = files.WorkdirLock(workdir).acquire() if is_chief else None
  try:
    finished = finished_results(config, workdir)
    if finished is not None:
      logging.info("%s holds this run, finished; nothing to do (its "
                   "results.json is returned as it is)", workdir)
      return finished
    if not allow_config_change:
      check_same_config(config, workdir)
    return _train_and_evaluate(config, workdir, is_chief)
  except WcgenError:
    # A run that stopped before writing anything (bad data files, a batch
    # larger than the data) leaves no empty workdir behind.
    if created and lock is not None and os.listdir(workdir) == [".lock"]:
      lock.release()
      lock = None
      files.remove_empty_workdir(workdir)
    raise
  finally:
    if lock is not None:
      lock.release()


def _train_and_evaluate(config: ml_collections.ConfigDict, workdir: str,
                        is_chief: bool) -> Dict[str, Any]:
  """train_and_evaluate's body, with the workdir held and checked."""

  mesh = mesh_lib.make_mesh()
  replicated = NamedSharding(mesh, P())
  batch_sharding = NamedSharding(mesh, P("data"))

  data = input_pipeline.create_datasets(config.data)
  # Before anything is written:
  data.check_batch_size(config.schedule.batch_size)
  logging.info("Training set: %d images, per class %s", len(data.train_labels),
               data.train_class_counts.tolist())
  realised = data.realised_imbalance_factor
  if abs(realised / config.data.imbalance_factor - 1) > 0.1:
    logging.warning(
        "data.imbalance_factor=%g, but the training set as drawn has %g "
        "(largest / smallest class); results.json records both",
        config.data.imbalance_factor, realised)
  reference = reference_classifier(config)
  method = methods.create(config, data.num_classes, data.image_shape[-1],
                          data.train_class_counts, batch_sharding, reference)
  # Post-hoc logit adjustment (0 unless config.loss.posthoc_tau is set).
  offset = jnp.asarray(classification_losses.posthoc_offset(
      config.loss.posthoc_tau, data.train_class_counts))

  init = jax.jit(method.init, static_argnums=1, out_shardings=replicated)
  state = init(jax.random.PRNGKey(config.seed), data.image_shape)
  ckpt = checkpointing.Checkpointer(
      os.path.join(workdir, "checkpoints"),
      config.schedule.max_checkpoints_to_keep)
  try:
    state = ckpt.restore_or(state)
  except WcgenError:  # e.g. another config's checkpoint: nothing written
    ckpt.close()
    raise
  start_step = int(jax.device_get(state.step))
  if start_step:
    logging.info("Resuming at step %d", start_step)

  if is_chief:
    files.atomic_write_bytes(os.path.join(workdir, "config.json"),
                             config.to_json_best_effort(indent=2).encode())
  # TensorBoard and metrics.jsonl on the chief; the console gets one line
  # per log step from ConsoleProgress, not a copy of every scalar.
  tensorboard = metric_writers.SummaryWriter(workdir) if is_chief else None
  writer = metric_writers.MultiWriter([
      tensorboard,
      jsonl_writer.JsonlWriter(os.path.join(workdir, "metrics.jsonl"),
                               start_step),
  ] if is_chief else [])
  log = writer.write_scalars

  jit_step = lambda fn: jax.jit(fn, in_shardings=(replicated, batch_sharding),
                                out_shardings=(replicated, replicated),
                                donate_argnums=0)
  train_step = jit_step(method.train_step)
  # Steps before `frozen_warmup_steps` update C alone (G and D frozen).
  warmup_step = (jit_step(method.classifier_only_step)
                 if method.frozen_warmup_steps else None)
  count_fn = correct_counts_fn(method, offset, data.num_classes, mesh)

  sample_fn = jax.jit(method.sample, out_shardings=replicated)
  class_names = specs.class_names(config.data.name)
  # Issue 15's diagnostic: per class, how much of Q still carries its class.
  fidelity_probe = (fidelity.FidelityProbe(
      method, data, config.schedule.fidelity_per_class, config.seed,
      class_names, reference, out_shardings=replicated)
                    if method.has_generator and
                    config.schedule.fidelity_per_class else None)

  def score(split: str, distorted: bool = False) -> Dict[str, Any]:
    return accuracy.evaluate(
        count_fn, state,
        data.eval_iterator(config.schedule.eval_batch_size, batch_sharding,
                           distorted, split), data.num_classes)

  def evaluate(step: int, final: bool) -> Dict[str, Any]:
    """Scores C on the validation split at every evaluation, and on the
    test set only at the end (once per run; never when the config says
    evaluate_test=False, as tuning sweeps do). Without a validation split
    (validation_per_class=0), every evaluation reads the test set."""
    result, scalars = {"validation": None, "test": None}, {}
    if data.has_validation:
      result["validation"] = score("validation")
      scalars.update(val_accuracy=result["validation"]["accuracy"],
                     val_balanced_accuracy=result["validation"][
                         "balanced_accuracy"])
    if not data.has_validation or (final and config.schedule.evaluate_test):
      test = result["test"] = score("test")
      scalars.update(test_accuracy=test["accuracy"],
                     test_balanced_accuracy=test["balanced_accuracy"])
      if data.distortion.active:
        test["distorted"] = score("test", distorted=True)
        scalars["test_distorted_accuracy"] = test["distorted"]["accuracy"]
    if fidelity_probe is not None:  # every process runs it
      scalars.update(fidelity_probe(state))
    log(step, scalars)
    if fidelity_probe is not None and is_chief:
      fidelity.curves_figure(
          fidelity.curves(files.read_jsonl(
              os.path.join(workdir, "metrics.jsonl")), class_names),
          class_names, os.path.join(workdir, "fidelity_over_training.png"),
          f"class fidelity of Q over training ({config.method.name}, "
          f"{config.model.generator.name} G, seed {config.seed})")
    if method.has_generator:  # every process samples (a jitted program)
      grid = _sample_grid(sample_fn, state, config, data, method.per_sample)
      if is_chief:
        writer.write_images(step, {"samples": grid[None]})
        image_grid.save_labelled_png(
            os.path.join(workdir, "samples", f"step_{step:07d}.png"), grid,
            class_names)
    logging.info("step %d: %s", step, "  ".join(  # per-class: jsonl, TB
        f"{k}={v:.4f}" for k, v in sorted(scalars.items())
        if not k.startswith("fidelity/") or k.endswith("_mean")))
    return result

  num_steps = config.schedule.num_train_steps
  batches = data.train_iterator(
      config.schedule.batch_size, config.seed, start_step, batch_sharding,
      methods.with_preset(config).data.sampling,
      balanced_companion=method.needs_balanced_batch)
  history = []
  result = None
  t_start = time.time()
  wall_time = _WallTime(workdir, start_step, t_start, is_chief)
  # The tree this process loaded, read before training: a commit made while
  # the run trains is not the code that ran it.
  version = code_version.describe()

  def log_train(step: int, t: float) -> None:
    del t
    scalars = _mean_metrics(history)
    history.clear()
    skipped = {f"skipped_updates_{k}": int(v) for k, v in
               jax.device_get(state_lib.skipped_updates(state)).items()}
    log(step, {**scalars, **skipped})
    progress.scalars = scalars
    _check_skipped(skipped, config.schedule.max_skipped_updates, step,
                   step - config.schedule.log_every_steps + 1, ckpt.latest_step)

  def eval_and_sample(step: int, t: float) -> None:
    del t
    nonlocal result
    with progress.timed("eval"):
      result = evaluate(step, final=step == num_steps)

  def save(step: int, t: float) -> None:
    del t
    with progress.timed("checkpoint"):
      ckpt.save(step, state)
      wall_time.record(step)

  # clu's cadence: each action fires every N steps and at the last step.
  # steps/s goes to TensorBoard only: metrics.jsonl stays a function of
  # the seed (a resumed run's file equals an uninterrupted one's).
  progress = ConsoleProgress(num_train_steps=num_steps, writer=tensorboard,
                             every_steps=config.schedule.log_every_steps)
  progress(start_step)  # the clock starts here (the first call never fires)
  actions = [
      periodic_actions.PeriodicCallback(every_steps=every, on_steps=[num_steps],
                                        callback_fn=fn)
      for every, fn in ((config.schedule.log_every_steps, log_train),
                        (config.schedule.eval_every_steps, eval_and_sample),
                        (config.schedule.checkpoint_every_steps, save))]
  stop = _StopSignals()
  try:
    with stop:
      for step in range(start_step + 1, num_steps + 1):
        with jax.profiler.StepTraceAnnotation("train", step_num=step):
          step_fn = (warmup_step if step <= method.frozen_warmup_steps
                     else train_step)
          state, metrics = step_fn(state, next(batches))
        history.append(metrics)
        actions[0](step)  # the metrics first, then the line that shows them
        progress(step)
        for action in actions[1:]:
          action(step)
        preempted = (stop.received if jax.process_count() == 1 else
                     ckpt.reached_preemption(step))
        if preempted and step < num_steps:
          if step % config.schedule.checkpoint_every_steps:
            ckpt.save(step, state)
            wall_time.record(step)
          ckpt.close()
          writer.flush()
          logging.warning("%s: checkpoint of step %d saved in %s; run the "
                          "same command to continue.", stop.name or
                          "Preempted", step, workdir)
          raise Stopped(step, stop.name, workdir)
  except Stopped:
    raise  # saved and closed above
  except BaseException:
    # An error or kill in the loop: let an in-flight (async) checkpoint
    # save finish, so that the last checkpoint is whole, then re-raise the
    # first error (a failing save is only logged here).
    try:
      ckpt.close()
    except WcgenError as e:
      logging.warning("%s", e)
    raise
  if result is None:  # nothing left to train: evaluate the restored state
    result = evaluate(num_steps, final=True)
  ckpt.close()
  writer.flush()

  results = results_lib.RunResults(
      method=config.method.name,
      dataset=config.data.name,
      imbalance_factor=config.data.imbalance_factor,
      imbalance_factor_realised=data.realised_imbalance_factor,
      seed=config.seed,
      steps=num_steps,
      batch_size=config.schedule.batch_size,
      train_class_counts=data.train_class_counts.tolist(),
      wall_time_sec_this_process=time.time() - t_start,
      wall_time_sec_total=wall_time.total(),
      resumed_from_step=start_step,
      devices=jax.device_count(),
      **_split_results("val", result["validation"], data.train_class_counts),
      **_split_results("test", result["test"], data.train_class_counts),
      test_distorted_accuracy=(result["test"] or {}).get(
          "distorted", {}).get("accuracy"),
      test_distortion=dataclasses.asdict(data.distortion),
      validation_images=int(len(data.validation_labels)),
      evaluated_classifier="final step (no test-set model selection)",
      code_version=version,
      config=config.to_dict())
  if is_chief:
    files.atomic_write_json(os.path.join(workdir, "results.json"),
                            results.to_json_dict())
  return results
