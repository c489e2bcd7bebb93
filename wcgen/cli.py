"""Start-up shared by the launchers: CPU devices, quiet logs, one-line errors."""

import os
import sys
from typing import Optional, Sequence

from absl import flags
from absl import logging

flags.DEFINE_integer(
    "cpu_devices", 0,
    "On CPU, split the host into this many XLA devices (0 = one per core) "
    "and shard each batch over them, as on a multi-GPU host; measured "
    "speed-ups are in docs/BENCHMARKS.md.")


class _QuietLibraries(logging.logging.Filter):
  """Drops orbax's, TensorFlow's and JAX's backend-probing INFO chatter
  (e.g. "Unable to initialize backend 'tpu'" on every CPU start) from the
  console log."""

  QUIET = ("/orbax/", "/tensorflow", "/jax/_src/xla_bridge.py")

  def filter(self, record):
    return (record.levelno >= logging.logging.WARNING or
            not any(p in record.pathname for p in self.QUIET))


# XLA:CPU's all-reduce between the host's devices (one per core) warns
# when one device thread has waited 20 s for another and aborts the whole
# process 40 s after that warning: on a machine shared with other runs, a
# device thread starved of its core for a minute (other processes
# compiling or evaluating on every core) killed a healthy run (issue 14.5;
# reproduced scaled down in tests/test_bad_inputs.py). A slow peer is not
# a hang here, so wcgen waits an hour after the warning; a value the user
# sets in $XLA_FLAGS wins.
CPU_COLLECTIVE_FLAGS = (
    "--xla_cpu_collective_timeout_seconds=3600",
    "--xla_cpu_collective_call_terminate_timeout_seconds=3600",
)


def add_xla_flags(xla_flags: Sequence[str]) -> None:
  """Appends each of `xla_flags` (--name=value) to $XLA_FLAGS unless
  $XLA_FLAGS already names it: a value the user sets wins. Call before
  XLA starts; it reads the variable once."""
  current = os.environ.get("XLA_FLAGS", "")
  extra = [f for f in xla_flags if f.split("=")[0] not in current]
  if extra:
    os.environ["XLA_FLAGS"] = " ".join([current] + extra).strip()


def patient_cpu_collectives() -> None:
  """Adds CPU_COLLECTIVE_FLAGS to $XLA_FLAGS (before XLA starts)."""
  add_xla_flags(CPU_COLLECTIVE_FLAGS)


def initialize_hosts(coordinator_address: Optional[str],
                     num_processes: Optional[int],
                     process_id: Optional[int]) -> None:
  """jax.distributed.initialize, then one collective across the hosts at
  once, while they are in step.

  On CPU the hosts' first collective sets up their Gloo context, and that
  waits only 30 s for the slowest host (not settable in jaxlib 0.10).
  Left to the first checkpoint, it comes after data loading and compiles,
  which on a loaded machine end tens of seconds apart on different hosts
  (the two-process test failed so while an experiment shared its cores).
  This covers the first context only: each new set of devices in a later
  collective (the train step's) gets a Gloo context of its own with the
  same 30 s window, and that still failed once under load (session 7,
  key cpu:gloo/0,1,2048,2049/2); unloaded, both multiprocess tests pass.
  """
  import jax  # pylint: disable=g-import-not-at-top
  from jax.experimental import multihost_utils  # pylint: disable=g-import-not-at-top
  jax.distributed.initialize(coordinator_address, num_processes, process_id)
  multihost_utils.sync_global_devices("wcgen: every host is up")


def setup() -> None:
  """Call first in main(): before JAX or TensorFlow touch a device."""
  logging.get_absl_handler().addFilter(_QuietLibraries())
  patient_cpu_collectives()
  import jax  # pylint: disable=g-import-not-at-top
  cpu_devices = flags.FLAGS.cpu_devices or os.cpu_count() or 1
  if "xla_force_host_platform_device_count" not in os.environ.get(
      "XLA_FLAGS", ""):
    jax.config.update("jax_num_cpu_devices", cpu_devices)
  # Compiled programs persist across runs (a resumed or repeated run skips
  # the ~30 s CPU compile of the joint step); $JAX_COMPILATION_CACHE_DIR
  # overrides the location.
  if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
    jax.config.update("jax_compilation_cache_dir",
                      os.path.expanduser("~/.cache/wcgen/jax"))
  # Keep TensorFlow (used only by tf.data) off the accelerators, where it
  # is installed: the step benchmark runs without it (an accelerator
  # machine may have JAX and not TensorFlow).
  try:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
  except ImportError:
    return
  tf.config.set_visible_devices([], "GPU")


def exit_with(message: str) -> None:
  print(f"error: {message}", file=sys.stderr)
  sys.exit(2)


def parse_flags(argv):
  """absl flag parser for app.run(main, flags_parser=parse_flags): a bad
  flag or config override gives one line and exit status 2, not a trace."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    text = str(e)
    if "Traceback" in text:  # a config file's own error, e.g. `:nosuch`
      lines = [l.strip() for l in text.splitlines() if l.strip()]
      text = f"cannot load the config: {lines[-1]}"
    exit_with(f"{text}; see --helpfull")
  except (AttributeError, KeyError) as e:
    name = str(e).strip("'\"")
    exit_with(f"unknown config field {name!r} in a --config.* override; "
               "check its spelling against the config file")
  except (TypeError, ValueError) as e:
    exit_with(f"bad config override: {e}")


def config_or_exit(name: str = "config"):
  """FLAGS.<name>, or one line if its file could not be loaded (absl keeps
  a placeholder that raises only when used)."""
  config = getattr(flags.FLAGS, name)
  try:
    config.keys()
  except (OSError, ImportError, SyntaxError, AttributeError) as e:
    lines = [l.strip() for l in str(e).splitlines() if l.strip()]
    reason = lines[-1] if lines else type(e).__name__
    exit_with(f"cannot load the --{name} file: {reason}; give an existing "
               "configs/*.py file")
  return config


def run_or_exit(fn, *args):
  """Runs fn; a user error (WcgenError) becomes one line on stderr, exit 2.
  A run stopped by a signal after saving (errors.Stopped) says how to
  continue: Ctrl-C exits 130 (a stop the user asked for, not a finished
  run), SIGTERM/preemption 0 (the scheduler's stop)."""
  from wcgen.errors import StorageError, Stopped, WcgenError  # pylint: disable=g-import-not-at-top
  try:
    return fn(*args)
  except Stopped as e:
    if e.signal == "SIGINT":
      print(f"stopped at step {e.step}; rerun the same command to continue",
            flush=True)
      raise SystemExit(130) from None
    print(f"preempted at step {e.step}; checkpoint saved in {e.workdir}; "
          "run the same command to resume", flush=True)
    raise SystemExit(0) from None
  except StorageError as e:
    # Orbax's background writers may still hold failed futures; skip the
    # interpreter's finalisation (pages of shutdown tracebacks from them).
    print(f"error: {e}", file=sys.stderr, flush=True)
    sys.stdout.flush()
    os._exit(2)  # pylint: disable=protected-access
  except WcgenError as e:
    exit_with(str(e))
