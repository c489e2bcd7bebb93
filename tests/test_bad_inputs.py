"""Table of bad inputs: each stops the launcher with one `error:` line that
says what to do (exit status 2), before or without losing any work."""

import errno
import gzip
import os
import signal
import subprocess
import sys
import textwrap

import orbax.checkpoint as ocp
import pytest

from conftest import make_idx_dir
from wcgen import cli
from wcgen.data import sources
from wcgen.errors import StorageError
from wcgen.core import checkpointing
from wcgen.core import files
from wcgen.train import trainer

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _set(config, field, value):
  node = config
  *parents, leaf = field.split(".")
  for p in parents:
    node = node[p]
  with node.ignore_type():
    node[leaf] = value


def _raw_dir_with(tmp_path, damage):
  """A fresh mnist raw dir whose train labels file is damaged."""
  raw = make_idx_dir(str(tmp_path / "raw" / "mnist"), 3, 2)
  path = os.path.join(raw, "train-labels-idx1-ubyte.gz")
  if damage == "truncated":
    with open(path, "r+b") as f:
      f.truncate(os.path.getsize(path) - 5)
  elif damage == "wrong_format":  # gzip, but of an HTML error page
    with gzip.open(path, "wb") as f:
      f.write(b"<html>404 not found</html>")
  elif damage == "not_gzip":
    with open(path, "wb") as f:
      f.write(b"<html>404 not found</html>")
  elif damage == "missing":
    os.remove(path)
  return str(tmp_path / "raw")


# (name, config overrides, expected part of the one line)
CONFIG_CASES = [
    ("eps zero", {"method.eps": 0.0}, "eps must be > 0"),
    ("generator rate decaying to zero",
     {"optim.generator.final_lr_fraction": 0.0},
     "optim.generator.final_lr_fraction must be in (0, 1]"),
    ("generator fidelity without a reference",
     {"method.generator_fidelity_weight": 1.0},
     "generator_fidelity_weight needs a reference classifier: set "
     "--config.method.reference_run"),
    ("average of G that never moves", {"method.generator_ema_decay": 1.0},
     "method.generator_ema_decay must be in [0, 1)"),
    ("imbalance factor < 1", {"data.imbalance_factor": 0.5},
     "imbalance_factor must be >= 1"),
    ("unknown method", {"method.name": "magic"}, "unknown method.name 'magic'"),
    ("unknown dataset", {"data.name": "imagenet"},
     "unknown data.name 'imagenet'"),
    ("unknown classifier loss", {"loss.name": "focal2"},
     "unknown loss.name 'focal2'"),
    ("unknown divergence", {"method.divergence": "kl"}, "unknown method.divergence 'kl'"),
    ("batch size zero", {"schedule.batch_size": 0},
     "batch_size must be a positive integer"),
    ("batch size as text", {"schedule.batch_size": "64"},
     "batch_size must be a positive integer, got '64'"),
    ("steps as float", {"schedule.num_train_steps": 10.5},
     "num_train_steps must be a positive integer"),
    ("fraction above 1", {"data.train_fraction": 1.5},
     r"train_fraction must be in (0, 1]"),
    ("negative sigma", {"data.test_distortion": "gaussian",
                        "data.test_distortion_level": -0.2},
     "must be >= 0"),
    ("label noise rate 1", {"data.label_noise": "symmetric",
                            "data.label_noise_rate": 1.0},
     "label_noise_rate must be in [0, 1)"),
    ("pair-flip rate at which noise stops being noise (issue 14.11)",
     {"data.label_noise": "pair", "data.label_noise_rate": 0.99},
     "label_noise_rate=0.99 with pair noise over 10 classes must be below "
     "0.5"),
    ("unknown generator", {"model.generator.name": "stylegan"},
     "unknown model.generator.name 'stylegan'"),
    ("checkpoint not on log grid", {"schedule.checkpoint_every_steps": 3},
     "must be a multiple of schedule.log_every_steps"),
    # 159 = the long tail (IF 2) over the 22 images per class left after 2
    # are held out for validation: 22, 20, 19, 17, 16, 15, 14, 13, 12, 11.
    ("batch larger than data", {"schedule.batch_size": 4096, "schedule.eval_batch_size": 16},
     "batch_size 4096 exceeds the 159 training images"),
    ("negative skip limit", {"schedule.max_skipped_updates": -1},
     "max_skipped_updates must be an integer >= 0"),
    ("unknown compute dtype", {"model.compute_dtype": "float16"},
     "unknown model.compute_dtype 'float16'"),
]


def _expect_one_line(capsys, fn, *args, match):
  with pytest.raises(SystemExit) as info:
    cli.run_or_exit(fn, *args)
  assert info.value.code == 2
  err = [l for l in capsys.readouterr().err.splitlines() if l.strip()]
  assert len(err) == 1 and err[0].startswith("error: "), err
  assert match in err[0], err[0]
  return err[0]


@pytest.mark.parametrize("name,overrides,match", CONFIG_CASES,
                         ids=[c[0] for c in CONFIG_CASES])
def test_bad_config(name, overrides, match, tiny_config, tmp_path, capsys):
  del name
  for field, value in overrides.items():
    _set(tiny_config, field, value)
  workdir = str(tmp_path / "run")
  _expect_one_line(capsys, trainer.train_and_evaluate, tiny_config, workdir,
                   match=match)
  # Nothing written that a later run would trip over.
  assert not os.path.exists(os.path.join(workdir, "checkpoints"))


@pytest.mark.parametrize("damage,match", [
    ("missing", "no local files for mnist: put train-images-idx3-ubyte.gz"),
    ("truncated", "train-labels-idx1-ubyte.gz is truncated"),
    ("wrong_format", "is not an unsigned-byte IDX file"),
    ("not_gzip", "is truncated or damaged (Not a gzipped file"),
])
def test_bad_data_files(damage, match, tiny_config, tmp_path, capsys,
                        monkeypatch):
  monkeypatch.delenv(sources.DATA_DIR_ENV, raising=False)
  tiny_config.data.name = "mnist"
  tiny_config.data.data_dir = _raw_dir_with(tmp_path, damage)
  tiny_config.data.tfds_dir = str(tmp_path / "tfds")
  _expect_one_line(capsys, trainer.train_and_evaluate, tiny_config,
                   str(tmp_path / "run"), match=match)
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  assert not tfds.builder("mnist", data_dir=str(tmp_path / "tfds")
                         ).is_prepared()
  assert not os.path.exists(tmp_path / "run")  # no empty workdir (14.11)


def test_damaged_prepared_dataset_is_named_with_its_cure(tiny_data,
                                                         tiny_config,
                                                         tmp_path, capsys):
  """Issue 14.7: a prepared tfds copy cut in half gave a 60-line
  DataLossError; now one line names it and how to re-prepare it, and no
  workdir is left behind."""
  import shutil  # pylint: disable=g-import-not-at-top
  tfds_dir = str(tmp_path / "tfds")
  shutil.copytree(tiny_data[1], tfds_dir)
  records = [os.path.join(root, n) for root, _, names in os.walk(tfds_dir)
             for n in names if "train.tfrecord" in n]
  assert records
  for path in records:
    with open(path, "r+b") as f:
      f.truncate(os.path.getsize(path) // 2)
  tiny_config.data.tfds_dir = tfds_dir
  line = _expect_one_line(capsys, trainer.train_and_evaluate, tiny_config,
                          str(tmp_path / "run"),
                          match="prepared copy of fashion_mnist in")
  assert "is damaged" in line and "rerun the same command" in line
  assert not os.path.exists(tmp_path / "run")


def test_unwritable_workdir(tiny_config, tmp_path, capsys):
  blocker = tmp_path / "a_file"
  blocker.write_text("not a directory")
  _expect_one_line(capsys, trainer.train_and_evaluate, tiny_config,
                   str(blocker / "run"), match="cannot create workdir")


def test_disk_full_while_saving_a_checkpoint(tiny_config, tmp_path, capsys,
                                             monkeypatch):
  """Orbax reports ENOSPC from tensorstore as this ValueError (seen on a
  full tmpfs); the save of step 4 fails, step 2 stays whole."""
  save = ocp.CheckpointManager.save

  def full_disk(self, step, *args, **kwargs):
    if step >= 4:
      raise ValueError(
          'RESOURCE_EXHAUSTED: Error writing "x" in OCDBT database: Failed '
          "to write 525233 bytes to file 5: No space left on device "
          "[os_error_code='28']")
    return save(self, step, *args, **kwargs)

  monkeypatch.setattr(ocp.CheckpointManager, "save", full_disk)

  def exit_without_finalising(code):  # the launcher's os._exit, testable
    raise SystemExit(code)

  monkeypatch.setattr(os, "_exit", exit_without_finalising)
  tiny_config.method.name = "erm"
  workdir = str(tmp_path / "run")
  line = _expect_one_line(capsys, trainer.train_and_evaluate, tiny_config,
                          workdir, match="No space left on device")
  assert "checkpoint of step 4" in line and "rerun the same command" in line
  ckpt = checkpointing.Checkpointer(os.path.join(workdir, "checkpoints"))
  assert ckpt.latest_step == 2
  ckpt.close()
  assert not os.path.exists(os.path.join(workdir, "results.json"))


def test_disk_full_while_writing_results_keeps_the_old_file(tmp_path,
                                                            monkeypatch):
  path = str(tmp_path / "results.json")
  files.atomic_write_json(path, {"old": 1})

  def no_space(fd):
    raise OSError(errno.ENOSPC, "No space left on device")

  monkeypatch.setattr(files.os, "fsync", no_space)
  with pytest.raises(StorageError, match="No space left on device"):
    files.atomic_write_json(path, {"new": 2})
  monkeypatch.undo()
  with open(path) as f:
    assert f.read().strip().replace(" ", "").replace("\n", "") == '{"old":1}'
  assert os.listdir(tmp_path) == ["results.json"]  # no temporary left


LAUNCHER_CASES = [
    ("config file missing", ["--config=configs/no_such_config.py"],
     "cannot load the --config file"),
    ("override of wrong type", ["--config.schedule.batch_size=abc"],
     "flag --config.schedule.batch_size=abc: invalid literal for int()"),
    ("unknown override", ["--config.no_such_field=1"],
     "unknown config field 'no_such_field'"),
    ("batch not divisible by devices",
     ["--cpu_devices=4", "--config.schedule.batch_size=6"],
     "batch_size=6 is not divisible by the 4 devices"),
    ("unknown config argument (issue 14.11)",
     ["--config=" + os.path.join(REPO, "configs", "fmnist_wgan.py") +
      ":nosuchbudget"],
     "cannot load the config: ValueError: unknown config argument "
     "'nosuchbudget'"),
]


@pytest.mark.parametrize("name,args,match", LAUNCHER_CASES,
                         ids=[c[0] for c in LAUNCHER_CASES])
def test_launcher_flags(name, args, match, tmp_path):
  del name
  config = ["--config=" + os.path.join(REPO, "configs", "fmnist_wgan.py")]
  if any(a.startswith("--config=") for a in args):
    config = []
  cmd = [sys.executable, os.path.join(REPO, "launch", "main.py"),
         f"--workdir={tmp_path / 'run'}", *config, *args]
  proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                        cwd=REPO)
  assert proc.returncode == 2, proc.stderr[-2000:]
  errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert len(errors) == 1 and match in errors[0], proc.stderr[-2000:]
  assert "Traceback" not in proc.stderr
  assert not os.path.exists(tmp_path / "run")


def test_atomic_files_get_the_usual_permissions(tmp_path):
  path = str(tmp_path / "results.json")
  files.atomic_write_json(path, {"a": 1})
  mask = os.umask(0)
  os.umask(mask)
  assert os.stat(path).st_mode & 0o777 == 0o666 & ~mask


# One device thread late to an all-reduce by `argv[1]` seconds: a host
# callback sleeps on device 0 before the psum, as a device thread starved
# of its core by other processes would be late.
_LATE_DEVICE = textwrap.dedent("""
    import sys, time
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import NamedSharding, PartitionSpec as P
    jax.config.update("jax_num_cpu_devices", 2)
    mesh = jax.make_mesh((2,), ("d",))
    def late(index):
      if int(index) == 0:
        time.sleep(float(sys.argv[1]))
      return np.float32(1.0)
    def total(x):
      w = jax.pure_callback(late, jax.ShapeDtypeStruct((), jnp.float32),
                            jax.lax.axis_index("d"))
      return jax.lax.psum(x * w, "d")
    step = jax.jit(jax.shard_map(total, mesh=mesh, in_specs=P("d"),
                                 out_specs=P()))
    x = jax.device_put(jnp.arange(2.0), NamedSharding(mesh, P("d")))
    print(float(step(x)[0]))
""")


def _late_device(late_s, xla_flags):
  return subprocess.run([sys.executable, "-c", _LATE_DEVICE, str(late_s)],
                        capture_output=True, text=True, timeout=120,
                        env=dict(os.environ, XLA_FLAGS=xla_flags))


def test_a_device_late_to_an_all_reduce_aborts_xla_unless_wcgen_waits(
    monkeypatch):
  """Issue 14.5's abort, reproduced: XLA:CPU warns when one device thread
  has waited `warn_stuck` s at an all-reduce for the other, then aborts the
  whole process `terminate` s later (defaults 20 + 40 s: a run whose
  device thread is starved for a minute by other runs on the same cores
  dies with SIGABRT). Scaled down to 1 + 2 s, a device 4 s late aborts;
  with wcgen's flags added (as every launcher does) the same late device
  only delays the step, and the sum is right."""
  warn = "--xla_cpu_collective_call_warn_stuck_timeout_seconds=1"
  aborted = _late_device(
      4, f"{warn} --xla_cpu_collective_call_terminate_timeout_seconds=2")
  assert aborted.returncode == -signal.SIGABRT, aborted.stderr[-2000:]
  assert "Termination timeout" in aborted.stderr
  monkeypatch.setenv("XLA_FLAGS", warn)
  cli.patient_cpu_collectives()
  assert ("--xla_cpu_collective_call_terminate_timeout_seconds=3600"
          in os.environ["XLA_FLAGS"])
  waited = _late_device(4, os.environ["XLA_FLAGS"])
  assert waited.returncode == 0, waited.stderr[-2000:]
  assert waited.stdout.strip() == "1.0"
  assert "may be stuck" in waited.stderr  # it was late, and survived


def test_cpu_collectives_wait_for_a_starved_device(monkeypatch):
  """Issue 14.5: the launchers raise XLA:CPU's collective timeouts (20 s,
  then an abort at 40 s) so that a device thread starved by other runs on
  the same cores does not kill the run; XLA accepts the flags (an unknown
  one aborts the process), and a user's own value is kept."""
  monkeypatch.setenv("XLA_FLAGS", "--xla_cpu_collective_timeout_seconds=7")
  cli.patient_cpu_collectives()
  flags_env = os.environ["XLA_FLAGS"]
  assert "--xla_cpu_collective_timeout_seconds=7" in flags_env
  assert "--xla_cpu_collective_timeout_seconds=3600" not in flags_env
  assert "--xla_cpu_collective_call_terminate_timeout_seconds=3600" in flags_env
  code = ("import jax; jax.config.update('jax_num_cpu_devices', 2); "
          "import jax.numpy as jnp; x = jax.device_put(jnp.arange(4.0), "
          "jax.sharding.NamedSharding(jax.make_mesh((2,), ('d',)), "
          "jax.sharding.PartitionSpec('d'))); print(float(jnp.sum(x)))")
  proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                        text=True, timeout=120,
                        env=dict(os.environ, XLA_FLAGS=" ".join(
                            cli.CPU_COLLECTIVE_FLAGS)))
  assert proc.returncode == 0, proc.stderr[-2000:]
  assert proc.stdout.strip() == "6.0"
