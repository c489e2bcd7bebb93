"""launch/benchmark.py: its FLOP accounting against a hand count (timings
are printed, never asserted)."""

import csv
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _classifier_forward_flops_per_image():
  """The Triple-GAN CNN's convolutions on 32x32x1, counted by hand:
  2 FLOPs per multiply-add (the dense layer and pooling are negligible)."""
  macs = (32 * 32 * 5 * 5 * 1 * 32 +      # conv5x5, 1 -> 32, at 32x32
          16 * 16 * 9 * 32 * 64 +         # conv3x3, 32 -> 64, at 16x16
          16 * 16 * 9 * 64 * 64 +         # conv3x3, 64 -> 64
          8 * 8 * 9 * 64 * 128 +          # conv3x3, 64 -> 128, at 8x8
          8 * 8 * 9 * 128 * 128)          # conv3x3, 128 -> 128
  return 2 * macs


# ERM's step on the tiny config, one timed step on 2 CPU devices.
_TINY_ERM = ["--config=" + os.path.join(REPO, "configs", "fmnist_wgan.py") +
             ":tiny", "--config.method.name=erm", "--batch_sizes=8",
             "--steps=1", "--warmup=0", "--cpu_devices=2"]


def test_erm_step_flops_are_three_forward_passes(tiny_data, tmp_path):
  out = str(tmp_path / "bench.csv")
  cmd = [sys.executable, os.path.join(REPO, "launch", "benchmark.py"),
         *_TINY_ERM, "--pipeline_batches=2",
         f"--config.data.data_dir={tiny_data[0]}",
         f"--config.data.tfds_dir={tiny_data[1]}", f"--csv={out}"]
  proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  assert "input pipeline" in proc.stdout
  with open(out) as f:
    rows = list(csv.DictReader(f))
  assert [int(r["batch"]) for r in rows] == [8]
  for row in rows:
    assert row["devices"] == "2" and row["dtype"] == "float32"
    # A training step is ~3 forward passes (forward, input gradients,
    # weight gradients; the first layer needs no input gradient). XLA's
    # count is per device: the benchmark must scale it to the whole batch.
    ratio = (float(row["gflop_per_step"]) * 1e9 /
             (int(row["batch"]) * _classifier_forward_flops_per_image()))
    assert 2.5 < ratio < 3.5, ratio
    assert float(row["step_s"]) > 0 and float(row["peak_memory_mb"]) > 0


def test_batch_that_does_not_divide_over_the_devices_is_one_line():
  cmd = [sys.executable, os.path.join(REPO, "launch", "benchmark.py"),
         "--config=" + os.path.join(REPO, "configs", "fmnist_wgan.py") +
         ":tiny", "--batch_sizes=8,7", "--cpu_devices=2"]
  proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
  assert proc.returncode == 2
  errors = [l for l in proc.stderr.splitlines() if l.startswith("error:")]
  assert errors == ["error: schedule.batch_size=7 is not divisible by the 2 devices; "
                    "use a multiple of 2"]


def test_step_benchmark_runs_where_tensorflow_is_not_installed():
  """An accelerator machine may have JAX and not TensorFlow (tf.data is
  the input pipeline's alone): with TensorFlow and tfds unimportable, the
  step timing (--pipeline_batches=0) still runs and prints its table."""
  script = (
      "import sys, runpy\n"
      "sys.modules['tensorflow'] = None\n"
      "sys.modules['tensorflow_datasets'] = None\n"
      f"sys.argv = ['benchmark.py'] + {_TINY_ERM!r} + ["
      "'--pipeline_batches=0']\n"
      f"runpy.run_path({os.path.join(REPO, 'launch', 'benchmark.py')!r}, "
      "run_name='__main__')\n")
  proc = subprocess.run([sys.executable, "-c", script], capture_output=True,
                        text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  row = [l for l in proc.stdout.splitlines() if l.startswith("| erm |")]
  assert len(row) == 1 and "| float32 | 8 | 2 |" in row[0]
  assert "input pipeline" not in proc.stdout
