"""Fréchet Inception Distance (FID) with Inception weights from a local file.

Nothing is downloaded: the user gives the path of the FID Inception
weights they have, either

* pytorch-fid's `pt_inception-2015-12-05-6726825d.pth` (the TensorFlow
  FID graph ported to PyTorch; read without PyTorch by
  `wcgen.eval.torch_pickle`), or
* a `.npz` with the same names and layouts (what `save_npz` writes).

The network is `wcgen.models.inception.FIDInceptionV3`; parameters map
name by name (`Mixed_5b.branch1x1.conv.weight` <-> `params/Mixed_5b/
branch1x1/conv/kernel`, kernels transposed from [out, in, kh, kw] to
[kh, kw, in, out]). The paper computes FID from 10,000 training images
and 10,000 generated ones (Table 4).
"""

import os
from typing import Callable, Dict, Iterable, Tuple

import flax
import jax
import jax.numpy as jnp
import numpy as np

from wcgen.errors import DataError
from wcgen.eval import frechet
from wcgen.eval import torch_pickle
from wcgen.models import inception

Variables = Dict[str, Dict]

# flax leaf name -> (PyTorch suffix, transpose to apply to the torch array)
_LEAVES = {
    ("params", "kernel"): ("weight", (2, 3, 1, 0)),
    ("params", "scale"): ("weight", None),
    ("params", "bias"): ("bias", None),
    ("batch_stats", "mean"): ("running_mean", None),
    ("batch_stats", "var"): ("running_var", None),
}


def init_inception(rng: jax.Array, resize_to: int = 299) -> Variables:
  """Randomly initialised variables of the FID network (for tests, and to
  check a weight file's names and shapes against)."""
  model = inception.FIDInceptionV3(resize_to)
  return jax.jit(model.init)(rng, jnp.zeros((1, resize_to, resize_to, 3)))


def _torch_names(variables: Variables) -> Dict[str, Tuple[Tuple[str, ...],
                                                        Tuple]]:
  """{torch name: (flax path, transpose)} for every leaf of `variables`."""
  names = {}
  for path in flax.traverse_util.flatten_dict(variables):
    suffix, transpose = _LEAVES[(path[0], path[-1])]
    names[".".join(path[1:-1] + (suffix,))] = (path, transpose)
  return names


def variables_from_state_dict(state: Dict[str, np.ndarray],
                              source: str = "the weight file") -> Variables:
  """Maps a pytorch-fid state dict onto FIDInceptionV3's variables.
  Keys the network does not use (`fc.*`, `*.num_batches_tracked`) are
  ignored; a missing key or a wrong shape is a one-line DataError."""
  template = jax.eval_shape(init_inception, jax.random.PRNGKey(0))
  flat = {}
  names = _torch_names(template)
  missing = sorted(set(names) - set(state))
  if missing:
    raise DataError(
        f"{source} lacks {len(missing)} of the FID Inception's "
        f"{len(names)} tensors (e.g. {missing[0]}); give pytorch-fid's "
        "pt_inception-2015-12-05-6726825d.pth or a .npz from "
        "wcgen.eval.fid.save_npz")
  for name, (path, transpose) in names.items():
    array = np.asarray(state[name], np.float32)
    if transpose is not None:
      array = array.transpose(transpose) if array.ndim == 4 else array
    want = flax.traverse_util.flatten_dict(template)[path].shape
    if array.shape != want:
      raise DataError(f"{source}: {name} has shape {array.shape}, the FID "
                      f"Inception needs {want}; is it the FID Inception "
                      "(2015-12-05) and not torchvision's?")
    flat[path] = jnp.asarray(array)
  return flax.traverse_util.unflatten_dict(flat)


def load_inception(path: str) -> Variables:
  """Variables of the FID Inception from a local `.pth` or `.npz` file."""
  if not path:
    raise DataError("FID needs the Inception weights: give the path of "
                    "pytorch-fid's pt_inception-2015-12-05-6726825d.pth (or "
                    "a .npz); nothing is downloaded")
  if not os.path.exists(path):
    raise DataError(f"Inception weight file {path} does not exist; give the "
                    "path of pt_inception-2015-12-05-6726825d.pth (or a "
                    ".npz)")
  if path.endswith(".npz"):
    try:
      with np.load(path) as f:
        state = {k: f[k] for k in f.files}
    except (OSError, ValueError) as e:
      raise DataError(f"cannot read {path} as a .npz ({e}); give the FID "
                      "Inception weights") from None
  else:
    state = torch_pickle.load_state_dict(path)
  return variables_from_state_dict(state, path)


def save_npz(variables: Variables, path: str) -> None:
  """Writes `variables` with pytorch-fid's names and layouts (a file
  `load_inception` reads back)."""
  flat = flax.traverse_util.flatten_dict(variables)
  arrays = {}
  for name, (leaf_path, transpose) in _torch_names(variables).items():
    array = np.asarray(flat[leaf_path])
    if transpose is not None:
      array = array.transpose(np.argsort(transpose))
    arrays[name] = array
  np.savez(path, **arrays)


def feature_fn(variables: Variables, resize_to: int = 299
               ) -> Callable[[np.ndarray], np.ndarray]:
  """fn(images [N, H, W, 1|3] in [-1, 1]) -> pool_3 features [N, 2048]."""
  # The weights enter as an argument, not as constants folded into the
  # compiled program (87 MB of them).
  apply = jax.jit(inception.FIDInceptionV3(resize_to).apply)

  def features(images: np.ndarray, batch_size: int = 200) -> np.ndarray:
    out = [np.asarray(apply(variables, jnp.asarray(images[i:i + batch_size],
                                                   jnp.float32)))
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out).astype(np.float64)

  return features


def fid(features_fn: Callable[[np.ndarray], np.ndarray],
        images_a: Iterable[np.ndarray], images_b: Iterable[np.ndarray]
        ) -> float:
  """FID between two image sets (arrays [N, H, W, C] in [-1, 1])."""
  return frechet.feature_distance(features_fn(np.asarray(images_a)),
                                  features_fn(np.asarray(images_b)))
