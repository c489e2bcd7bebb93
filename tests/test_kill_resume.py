"""SIGKILL at random moments, restart each time: the finished run equals an
uninterrupted one bit for bit (CPU), state and metrics alike."""

import os
import signal
import subprocess
import sys
import time

import jax
import numpy as np

from test_train import _restore
from wcgen.core import files

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = 40


def _cmd(tiny_data, workdir):
  return [sys.executable, os.path.join(REPO, "launch", "main.py"),
          "--config=" + os.path.join(REPO, "configs", "fmnist_wgan.py") +
          ":tiny", f"--workdir={workdir}", "--cpu_devices=1",
          f"--config.data.data_dir={tiny_data[0]}",
          f"--config.data.tfds_dir={tiny_data[1]}", "--config.method.name=erm",
          f"--config.schedule.num_train_steps={STEPS}", "--config.schedule.eval_every_steps=10"]


def _kill_during_training(cmd, workdir, delay):
  """Starts a run; SIGKILLs it `delay` s after it logs a training row (or
  at once if it finishes first). Returns whether it was killed."""
  metrics = os.path.join(workdir, "metrics.jsonl")
  before = len(files.read_jsonl(metrics)) if os.path.exists(metrics) else 0
  proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
  deadline = time.time() + 120
  while time.time() < deadline and proc.poll() is None:
    if (os.path.exists(metrics) and
        len(files.read_jsonl(metrics)) > min(before, 1)):
      break
    time.sleep(0.05)
  time.sleep(delay)
  killed = proc.poll() is None
  proc.send_signal(signal.SIGKILL)
  proc.wait(timeout=60)
  return killed


def test_random_sigkills_then_resume_is_bitwise_equal(tiny_data, tmp_path):
  reference = str(tmp_path / "reference")
  done = subprocess.run(_cmd(tiny_data, reference), capture_output=True,
                        text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-2000:]

  workdir = str(tmp_path / "killed")
  cmd = _cmd(tiny_data, workdir)
  rng = np.random.default_rng(2026)  # kill moments: reproducible
  kills = sum(_kill_during_training(cmd, workdir, delay)
              for delay in rng.uniform(0.0, 3.0, size=2))
  assert kills >= 1
  done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
  assert done.returncode == 0, done.stderr[-2000:]

  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  config = fmnist_wgan.get_config("tiny")
  config.method.name = "erm"
  a, b = _restore(config, reference, STEPS), _restore(config, workdir, STEPS)
  for (path, x), (_, y) in zip(jax.tree_util.tree_leaves_with_path(a),
                               jax.tree_util.tree_leaves_with_path(b)):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y),
                                  err_msg=jax.tree_util.keystr(path))
  rows_a = files.read_jsonl(os.path.join(reference, "metrics.jsonl"))
  rows_b = files.read_jsonl(os.path.join(workdir, "metrics.jsonl"))
  assert [r["step"] for r in rows_b] == [r["step"] for r in rows_a]
  assert rows_a == rows_b
