r"""Times the jitted training step of a config and prints a table (and CSV).

  python launch/benchmark.py --config=configs/fmnist_wgan.py \
      [--batch_sizes=32,64,128,256] [--steps=10] [--dtype=bfloat16] \
      [--csv=out.csv]

For each batch size: compile time, median step time (after warm-up, with
`block_until_ready`), images/s, XLA's FLOP count for the lowered step, the
achieved FLOP/s as a fraction of the matmul peak measured in the same run
(the best of float32 matmuls of 1024, 2048 and 4096), and the step's peak
memory (XLA's buffer assignment: arguments + outputs + temporaries -
donated aliases; on GPU also the allocator's peak). Then the input
pipeline's images/s. On CPU the host is split into one XLA device per core
(`--cpu_devices`), as the launchers do for training; the batch is sharded
over every device, as in training. The same command runs on GPUs.
"""

import copy
import csv
import io
import os
import sys
import time

from absl import app
from absl import flags
from ml_collections import config_flags

from wcgen import cli


FLAGS = flags.FLAGS
config_flags.DEFINE_config_file("config", None, "Training config file.",
                                lock_config=False)
flags.DEFINE_list("batch_sizes", ["32", "64", "128", "256"],
                  "Global batch sizes to time.")
flags.DEFINE_enum("dtype", "", ["", "float32", "bfloat16"], "Compute dtype "
                  "(config.model.compute_dtype); default: the config's.")
flags.DEFINE_integer("steps", 10, "Timed steps per batch size.")
flags.DEFINE_integer("warmup", 2, "Untimed steps after compilation.")
flags.DEFINE_string("csv", None, "Also write the table to this CSV file.")
flags.DEFINE_integer("pipeline_batches", 100, "Batches to time in the input "
                     "pipeline (the config's data, its bad-data transforms "
                     "on); 0 skips it.")
flags.mark_flags_as_required(["config"])


def matmul_peak_flops(dtype: str = "float32",
                      sizes=(1024, 2048, 4096), repeats: int = 5) -> float:
  """The best median FLOP/s of square matmuls on the default device: what
  the hardware and XLA's own GEMM reach, the yardstick for a step."""
  import jax  # pylint: disable=g-import-not-at-top
  import jax.numpy as jnp  # pylint: disable=g-import-not-at-top
  best = 0.0
  for n in sizes:
    a = jax.random.normal(jax.random.PRNGKey(0), (n, n), jnp.dtype(dtype))
    f = jax.jit(lambda x: x @ x)
    f(a).block_until_ready()
    times = []
    for _ in range(repeats):
      t = time.perf_counter()
      f(a).block_until_ready()
      times.append(time.perf_counter() - t)
    best = max(best, 2 * n**3 / sorted(times)[len(times) // 2])
  return best


def peak_memory_mb(compiled) -> float:
  """Peak bytes of one step from XLA's buffer assignment, in MiB."""
  memory = compiled.memory_analysis()
  if memory is None:
    return float("nan")
  total = sum(getattr(memory, f"{k}_size_in_bytes", 0)
              for k in ("argument", "output", "temp"))
  return (total - getattr(memory, "alias_size_in_bytes", 0)) / 2**20


def pipeline_images_per_second(config, batch_size: int, batches: int):
  """Images/s of the training and distorted-test pipelines, as host arrays.

  Timed after the first batch (tf.data start-up), over `batches` batches,
  with every row on this host (the most work one host can have).
  """
  import numpy as np  # pylint: disable=g-import-not-at-top
  from wcgen.data import input_pipeline  # pylint: disable=g-import-not-at-top
  data = input_pipeline.create_datasets(config.data)
  rows = np.arange(batch_size)
  result = {}
  for name, ds in (
      ("train", data.train_dataset(batch_size, 0, 0, rows)),
      ("test_distorted", data.eval_dataset(batch_size, rows, True).repeat())):
    it = ds.as_numpy_iterator()
    next(it)
    t = time.perf_counter()
    for _ in range(batches):
      next(it)
    result[name] = batches * batch_size / (time.perf_counter() - t)
  return data, result


def main(argv):
  if len(argv) > 1:
    raise app.UsageError("Too many command-line arguments.")
  cli.setup()  # one XLA device per CPU core, as training uses
  cli.run_or_exit(benchmark)


def benchmark():
  import jax  # pylint: disable=g-import-not-at-top
  from jax.sharding import NamedSharding, PartitionSpec as P  # pylint: disable=g-import-not-at-top
  import numpy as np  # pylint: disable=g-import-not-at-top
  from wcgen import methods  # pylint: disable=g-import-not-at-top
  from wcgen.data import specs  # pylint: disable=g-import-not-at-top
  from wcgen.core import files  # pylint: disable=g-import-not-at-top
  from wcgen.core import mesh as mesh_lib  # pylint: disable=g-import-not-at-top
  from wcgen.train import validation  # pylint: disable=g-import-not-at-top

  config = FLAGS.config
  if FLAGS.dtype:
    config.model.compute_dtype = FLAGS.dtype
  for batch_size in map(int, FLAGS.batch_sizes):  # as training would check
    candidate = copy.deepcopy(config)
    candidate.schedule.batch_size = batch_size
    validation.validate_config(candidate, jax.device_count())
  dtype = config.model.compute_dtype
  spec = specs.get_spec(config.data.name)
  image_shape = (config.data.image_size,) * 2 + (spec.image_shape[-1],)
  mesh = mesh_lib.make_mesh()
  replicated = NamedSharding(mesh, P())
  data_sharding = NamedSharding(mesh, P("data"))
  peak = matmul_peak_flops(dtype)
  print(f"devices: {jax.device_count()} x {jax.devices()[0].device_kind}; "
        f"measured {dtype} matmul peak {peak / 1e9:.0f} GFLOP/s")
  rows = []
  for batch_size in map(int, FLAGS.batch_sizes):
    method = methods.create(config, spec.num_classes, image_shape[-1],
                            [1] * spec.num_classes,
                            data_sharding)
    state = jax.jit(method.init, static_argnums=1, out_shardings=replicated)(
        jax.random.PRNGKey(0), image_shape)
    rng = np.random.default_rng(0)
    batch = {
        "image": jax.device_put(
            rng.uniform(-1, 1, (batch_size,) + image_shape).astype(np.float32),
            data_sharding),
        "label": jax.device_put(
            rng.integers(0, spec.num_classes, batch_size).astype(np.int32),
            data_sharding),
    }
    if method.needs_balanced_batch:  # its companion batch
      batch["balanced_image"] = batch["image"][::-1]
      batch["balanced_label"] = batch["label"][::-1]
    step = jax.jit(method.train_step, in_shardings=(replicated, data_sharding),
                   out_shardings=(replicated, replicated), donate_argnums=0)
    t = time.perf_counter()
    lowered = step.lower(state, batch)
    compiled = lowered.compile()
    compile_s = time.perf_counter() - t
    # The lowered (not yet partitioned or optimised) step's count, for the
    # whole batch. The compiled program's would count one SPMD partition
    # and, on a GPU, leave out what it hands to libraries (cuDNN's
    # convolutions: on an H200 it counted 0.28 of ERM's 10 GFLOP at batch
    # 64); there XLA counts nothing for the lowered step either (jax
    # 0.11), so the FLOP columns stay nan rather than wrong.
    cost = lowered.cost_analysis()
    cost = cost[0] if isinstance(cost, (list, tuple)) else cost
    flops = float((cost or {}).get("flops", float("nan")))
    if np.isnan(flops) and not rows:
      print(f"XLA gives no FLOP count for this step on "
            f"{jax.default_backend()}: the FLOP columns are nan. The step's "
            f"FLOPs do not depend on the backend: a CPU run of the same "
            f"config and batch prints them")
    for _ in range(FLAGS.warmup):
      state, _ = compiled(state, batch)
    jax.block_until_ready(state)
    times = []
    for _ in range(FLAGS.steps):
      t = time.perf_counter()
      state, metrics = compiled(state, batch)
      jax.block_until_ready((state, metrics))
      times.append(time.perf_counter() - t)
    median = float(np.median(times))
    stats = jax.devices()[0].memory_stats() or {}
    rows.append({
        "method": config.method.name, "dtype": dtype, "batch": batch_size,
        "devices": jax.device_count(), "compile_s": round(compile_s, 2),
        "step_s": round(median, 4),
        "images_per_s": round(batch_size / median, 1),
        "ms_per_image": round(1000 * median / batch_size, 3),
        "gflop_per_step": round(flops / 1e9, 2),
        "gflops_per_s": round(flops / median / 1e9, 1),
        "fraction_of_peak": round(flops / median / peak, 3),
        # Per device: XLA's plan, and the allocator's peak where the
        # device reports one (GPU).
        "peak_memory_mb": round(peak_memory_mb(compiled), 1),
        "allocator_peak_mb": round(stats.get("peak_bytes_in_use", 0) / 2**20,
                                   1) if stats else "",
    })
    del state, compiled, step
  header = list(rows[0])
  print("| " + " | ".join(header) + " |")
  print("|" + "---|" * len(header))
  for row in rows:
    print("| " + " | ".join(str(row[k]) for k in header) + " |")
  if FLAGS.pipeline_batches:
    data, rates = pipeline_images_per_second(
        config, int(FLAGS.batch_sizes[0]), FLAGS.pipeline_batches)
    d = config.data
    print(f"input pipeline ({d.name}, IF {d.imbalance_factor}, fraction "
          f"{d.train_fraction}, label noise {d.label_noise} "
          f"{d.label_noise_rate}, test distortion {d.test_distortion} "
          f"{d.test_distortion_level}; {len(data.train_labels)} train images, "
          f"batch {FLAGS.batch_sizes[0]}): " + ", ".join(
              f"{k} {v:.0f} images/s" for k, v in rates.items()))
    fastest = min(r["step_s"] / r["batch"] for r in rows)
    print(f"train pipeline supplies {rates['train'] * fastest:.1f}x the "
          "images/s the fastest timed step consumes")
  if FLAGS.csv:
    out = io.StringIO()
    writer = csv.DictWriter(out, header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    files.atomic_write_bytes(FLAGS.csv, out.getvalue().encode())


if __name__ == "__main__":
  sys.exit(app.run(main, flags_parser=cli.parse_flags))
