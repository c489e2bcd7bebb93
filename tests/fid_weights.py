"""Seeded stand-in weights for the FID Inception, in pytorch-fid's names.

Built with NumPy alone from (seed, tensor name), so the test suite (JAX)
and tests/data/make_fid_reference.py (PyTorch + torchvision) construct the
same weights independently of each other and of wcgen's name mapping.
"""

import zlib

import numpy as np


def state_dict(shapes, seed=0):
  """{torch name: array} for {torch name: shape}: He-scaled convolution
  kernels and near-identity BatchNorm, so activations keep their scale
  through the 94 convolutions."""
  out = {}
  for name, shape in shapes.items():
    rng = np.random.default_rng([seed, zlib.crc32(name.encode())])
    if name.endswith("num_batches_tracked"):
      out[name] = np.zeros(shape, np.int64)
    elif name.endswith("conv.weight"):
      fan_in = int(np.prod(shape[1:]))
      out[name] = rng.normal(0, np.sqrt(2.0 / fan_in), shape)
    elif name.endswith("running_var") or name.endswith("bn.weight"):
      out[name] = rng.uniform(0.8, 1.2, shape)
    else:  # BatchNorm bias and mean, fc
      out[name] = rng.uniform(-0.1, 0.1, shape)
    out[name] = out[name].astype(np.float32 if out[name].dtype == np.float64
                                 else out[name].dtype)
  return out


def images(n=3, size=32, channels=3, seed=0):
  """Smooth images in [-1, 1] (random pixels would be all high frequency)."""
  rng = np.random.default_rng(seed)
  coarse = rng.uniform(-1, 1, (n, size // 4, size // 4, channels))
  return np.repeat(np.repeat(coarse, 4, 1), 4, 2).astype(np.float32)
