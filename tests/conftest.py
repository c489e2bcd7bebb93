"""Shared fixtures: small data sets written in the real file formats."""

import fcntl
import gzip
import os
import struct
import tempfile

import numpy as np
import pytest

from wcgen import cli

NUM_CLASSES = 10

# Persistent XLA compilation cache shared by the test processes and the
# subprocesses they start: the joint step compiles in ~30 s on 2 cores and
# many tests compile the same program. Keys include the whole HLO, so a
# changed program never reuses a stale entry.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR",
                      os.path.join(tempfile.gettempdir(),
                                   "wcgen-test-jax-cache"))
# Every program, not only those over JAX's default 1 s of compile time: a
# `:tiny` launcher run compiles some sixty small programs (evaluation,
# sampling, metrics), and with them cached a second run of the same config
# starts about a quarter sooner; a cold suite takes as long as before
# (docs/BENCHMARKS.md, "The test suite").
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
# LLVM's machine-code optimisation off (XLA's HLO passes, fusion included,
# still run): compiling is over a third of the suite's time on 2 cores,
# and the tests check what the programs compute, not how fast. It found a
# real fault too: max pooling's gradient was NaN wherever XLA recomputed
# its input with other rounding (layers.max_pool_2x2, session 24). Set
# XLA_FLAGS=--xla_backend_optimization_level=2 to test XLA's default code;
# the figures are in docs/BENCHMARKS.md, "The test suite".
cli.add_xla_flags(["--xla_backend_optimization_level=0"])


def write_idx_gz(path, array):
  """Writes IDX bytes by hand (independently of wcgen.data.idx)."""
  array = np.asarray(array, np.uint8)
  header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
  header += b"".join(struct.pack(">I", d) for d in array.shape)
  with gzip.open(path, "wb") as f:
    f.write(header + array.tobytes())


def class_images(labels, rng):
  """28x28 images whose class shows as a bright horizontal band."""
  images = rng.integers(0, 60, (len(labels), 28, 28), dtype=np.uint8)
  for i, y in enumerate(labels):
    images[i, 2 + 2 * y:4 + 2 * y, :] = 230
  return images


def make_idx_dir(root, train_per_class=24, test_per_class=4, seed=0):
  """An MNIST-format directory: train/t10k images and labels, gzipped."""
  rng = np.random.default_rng(seed)
  os.makedirs(root, exist_ok=True)
  for prefix, per_class in (("train", train_per_class),
                            ("t10k", test_per_class)):
    labels = rng.permutation(np.repeat(np.arange(NUM_CLASSES), per_class))
    write_idx_gz(os.path.join(root, f"{prefix}-images-idx3-ubyte.gz"),
                 class_images(labels, rng))
    write_idx_gz(os.path.join(root, f"{prefix}-labels-idx1-ubyte.gz"),
                 labels.astype(np.uint8))
  return root


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory):
  """(raw IDX dir, tfds dir) holding a tiny fashion_mnist, prepared once."""
  base = tmp_path_factory.mktemp("data")
  make_idx_dir(str(base / "raw" / "fashion_mnist"))
  tfds_dir = str(base / "tfds")
  from wcgen.data import sources  # pylint: disable=g-import-not-at-top
  sources.prepare("fashion_mnist", data_dir=str(base / "raw"),
                  tfds_dir=tfds_dir)
  return str(base / "raw"), tfds_dir


@pytest.fixture(scope="session")
def finished_run(tmp_path_factory, tiny_data):
  """(config, workdir, results) of one finished `:tiny` worst-case run."""
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  from wcgen.train import trainer  # pylint: disable=g-import-not-at-top
  config = fmnist_wgan.get_config("tiny")
  config.data.data_dir, config.data.tfds_dir = tiny_data
  workdir = str(tmp_path_factory.mktemp("run"))
  results = trainer.train_and_evaluate(config, workdir)
  return config, workdir, results


@pytest.fixture
def cores_to_itself():
  """Runs a test that starts several training processes at once (two
  jax.distributed hosts, three runs side by side) only while no other such
  test runs on another xdist worker: two of them together put six or more
  processes on 2 cores, which starves a process past jax.distributed's and
  Gloo's start-up timeouts (an abort that says nothing about the code)."""
  path = os.path.join(tempfile.gettempdir(), "wcgen-tests-processes.lock")
  with open(path, "w") as lock:
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture
def tiny_config(tiny_data):
  """The `:tiny` config of configs/fmnist_wgan.py on the tiny data."""
  from configs import fmnist_wgan  # pylint: disable=g-import-not-at-top
  config = fmnist_wgan.get_config("tiny")
  config.data.data_dir, config.data.tfds_dir = tiny_data
  return config


def colour_images(labels, rng):
  """32x32x3 images whose class shows as a bright band in one channel."""
  images = rng.integers(0, 60, (len(labels), 32, 32, 3), dtype=np.uint8)
  for i, y in enumerate(labels):
    images[i, 2 + 3 * y:4 + 3 * y, :, y % 3] = 230
  return images


def make_cifar_tarball(root, train_per_class=10, test_per_class=3, seed=0):
  """cifar-10-python.tar.gz as distributed: pickled dicts with bytes keys,
  `data` uint8 [N, 3072] as R, G, B planes. Returns (path, arrays)."""
  import io  # pylint: disable=g-import-not-at-top
  import pickle  # pylint: disable=g-import-not-at-top
  import tarfile  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  os.makedirs(root, exist_ok=True)
  arrays = {}
  for split, per_class in (("train", train_per_class),
                           ("test", test_per_class)):
    labels = rng.permutation(np.repeat(np.arange(NUM_CLASSES), per_class))
    arrays[split] = (colour_images(labels, rng), labels)
  members = {"batches.meta": {b"label_names": [
      n.encode() for n in ("airplane", "automobile", "bird", "cat", "deer",
                           "dog", "frog", "horse", "ship", "truck")]}}
  train_x, train_y = arrays["train"]
  for i, part in enumerate(np.array_split(np.arange(len(train_y)), 5)):
    members[f"data_batch_{i + 1}"] = {
        b"data": train_x[part].transpose(0, 3, 1, 2).reshape(len(part), -1),
        b"labels": [int(v) for v in train_y[part]]}
  test_x, test_y = arrays["test"]
  members["test_batch"] = {
      b"data": test_x.transpose(0, 3, 1, 2).reshape(len(test_y), -1),
      b"labels": [int(v) for v in test_y]}
  path = os.path.join(root, "cifar-10-python.tar.gz")
  with tarfile.open(path, "w:gz") as tar:
    for name, obj in members.items():
      payload = pickle.dumps(obj, protocol=2)
      info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
      info.size = len(payload)
      tar.addfile(info, io.BytesIO(payload))
  return path, arrays


def make_svhn_dir(root, train_per_class=6, test_per_class=3, seed=0):
  """train_32x32.mat and test_32x32.mat as distributed: X [32, 32, 3, N],
  y [N, 1] with 10 for the digit 0. Returns (root, arrays)."""
  import scipy.io  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  os.makedirs(root, exist_ok=True)
  arrays = {}
  for split, per_class in (("train", train_per_class),
                           ("test", test_per_class)):
    digits = rng.permutation(np.repeat(np.arange(NUM_CLASSES), per_class))
    images = colour_images(digits, rng)
    arrays[split] = (images, digits)
    scipy.io.savemat(
        os.path.join(root, f"{split}_32x32.mat"),
        {"X": np.moveaxis(images, 0, -1),
         "y": np.where(digits == 0, 10, digits).astype(np.uint8)[:, None]})
  return root, arrays
