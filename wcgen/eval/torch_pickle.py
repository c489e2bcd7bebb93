"""Reads a PyTorch state dict (`torch.save` file) into NumPy, without torch.

FID's Inception weights are distributed as a PyTorch file
(pytorch-fid's `pt_inception-2015-12-05-6726825d.pth`); wcgen has no
PyTorch dependency, so this module reads the two formats `torch.save`
writes, with the standard library's unpickler and NumPy:

* the zip format (torch >= 1.6): `<name>/data.pkl` pickles the object,
  tensors refer to storages by key, and `<name>/data/<key>` holds each
  storage's raw little-endian bytes;
* the legacy format (`_use_new_zipfile_serialization=False`, and files
  from torch < 1.6): five pickles (magic number, protocol version, system
  info, the object, the storage keys), then each storage as an 8-byte
  element count followed by its raw bytes.

Only what a state dict holds is accepted: (ordered) dicts of tensors,
numbers and strings. Any other class in the pickle is refused, so a weight
file cannot run code.
"""

import collections
import io
import pickle
import struct
import zipfile
from typing import Dict

import numpy as np

from wcgen.errors import DataError

_MAGIC_NUMBER = 0x1950A86A20F9469CFC6C

# torch storage class name -> NumPy dtype.
_STORAGE_DTYPES = {
    "DoubleStorage": np.float64, "FloatStorage": np.float32,
    "HalfStorage": np.float16, "LongStorage": np.int64,
    "IntStorage": np.int32, "ShortStorage": np.int16,
    "CharStorage": np.int8, "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
  """Stands for a torch storage class in the pickle; knows its dtype."""

  def __init__(self, name: str):
    if name not in _STORAGE_DTYPES:
      raise DataError(f"unsupported tensor storage {name} in the weight file; "
                      "save the state dict with float32 tensors")
    self.dtype = np.dtype(_STORAGE_DTYPES[name])


class _StorageRef:
  """A storage named in the pickle; its bytes are read afterwards."""

  def __init__(self, storage_type: _StorageType, key: str, numel: int):
    self.dtype, self.key, self.numel = storage_type.dtype, key, numel


class _TensorRef:
  """torch._utils._rebuild_tensor_v2's arguments: a strided view into a
  storage, built once the storage's bytes are known."""

  def __init__(self, storage: _StorageRef, offset: int, size, stride,
               *unused):
    del unused
    self.storage, self.offset = storage, int(offset)
    self.size, self.stride = tuple(size), tuple(stride)

  def build(self, data: np.ndarray) -> np.ndarray:
    if len(data) < self.offset + _extent(self.size, self.stride):
      raise DataError("a tensor reaches past its storage: the weight file is "
                      "damaged; get it again")
    view = np.lib.stride_tricks.as_strided(
        data[self.offset:], shape=self.size,
        strides=tuple(s * data.dtype.itemsize for s in self.stride))
    return np.array(view)  # owns its memory, C order


def _extent(size, stride) -> int:
  return 1 + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else 0


def _rebuild_parameter(data, *unused):
  del unused
  return data


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _TensorRef,
    ("torch._utils", "_rebuild_tensor"): _TensorRef,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
}


class _Unpickler(pickle.Unpickler):
  """Resolves torch's globals to the stand-ins above and nothing else."""

  def find_class(self, module: str, name: str):
    if (module, name) in _ALLOWED:
      return _ALLOWED[(module, name)]
    if module == "torch" and name.endswith("Storage"):
      return _StorageType(name)
    raise DataError(f"the weight file holds {module}.{name}, which is not "
                    "part of a plain state dict; save model.state_dict()")

  def persistent_load(self, pid):
    # ('storage', storage_type, key, location, numel[, view_metadata])
    if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
            and isinstance(pid[1], _StorageType)):
      raise DataError(f"unexpected persistent id {pid!r} in the weight file")
    if len(pid) > 5 and pid[5] is not None:
      raise DataError("storage views in the weight file are not supported; "
                      "re-save it with a recent torch.save")
    return _StorageRef(pid[1], str(pid[2]), int(pid[4]))


def _tensors(obj) -> Dict[str, _TensorRef]:
  if not isinstance(obj, dict):
    raise DataError(f"the weight file holds a {type(obj).__name__}, not a "
                    "state dict; save model.state_dict()")
  return {k: v for k, v in obj.items() if isinstance(v, _TensorRef)}


def _load_zip(path: str) -> Dict[str, np.ndarray]:
  with zipfile.ZipFile(path) as archive:
    pickles = [n for n in archive.namelist() if n.endswith("data.pkl")]
    if not pickles:
      raise DataError(f"{path} is a zip file without data.pkl; expected a "
                      "file written by torch.save")
    prefix = pickles[0][:-len("data.pkl")]
    refs = _tensors(_Unpickler(io.BytesIO(archive.read(pickles[0]))).load())
    data = {}
    for name, ref in refs.items():
      s = ref.storage
      if s.key not in data:
        raw = archive.read(f"{prefix}data/{s.key}")
        if len(raw) < s.numel * s.dtype.itemsize:
          raise DataError(f"{path} is truncated; get the weight file again")
        data[s.key] = np.frombuffer(raw, s.dtype.newbyteorder("<"),
                                    count=s.numel).astype(s.dtype)
    return {name: ref.build(data[ref.storage.key])
            for name, ref in refs.items()}


def _load_legacy(path: str) -> Dict[str, np.ndarray]:
  with open(path, "rb") as f:
    header = pickle.Unpickler(f)
    if header.load() != _MAGIC_NUMBER:
      raise DataError(f"{path} is not a torch.save file (no magic number); "
                      "give the .pth or .npz weight file")
    header.load()  # protocol version
    header.load()  # system info: byte order, type sizes
    refs = _tensors(_Unpickler(f).load())
    storages = {r.storage.key: r.storage for r in refs.values()}
    data = {}
    for key in pickle.Unpickler(f).load():  # storages, in this order
      (count,) = struct.unpack("<q", f.read(8))
      storage = storages.get(str(key))
      itemsize = storage.dtype.itemsize if storage else 1
      raw = f.read(count * itemsize)
      if len(raw) != count * itemsize:
        raise DataError(f"{path} is truncated; get the weight file again")
      if storage is not None:
        data[storage.key] = np.frombuffer(raw, storage.dtype.newbyteorder(
            "<")).astype(storage.dtype)
  return {name: ref.build(data[ref.storage.key])
          for name, ref in refs.items()}


def load_state_dict(path: str) -> Dict[str, np.ndarray]:
  """{name: array} of a `torch.save`d state dict, in PyTorch's layouts
  (convolution kernels [out, in, kh, kw])."""
  try:
    if zipfile.is_zipfile(path):
      return _load_zip(path)
    return _load_legacy(path)
  except DataError:
    raise
  except FileNotFoundError:
    raise DataError(f"weight file {path} does not exist; give the path of "
                    "the .pth (or .npz) file") from None
  except (OSError, EOFError, pickle.UnpicklingError, KeyError, ValueError,
          TypeError, IndexError, struct.error, zipfile.BadZipFile) as e:
    raise DataError(f"cannot read {path} as a PyTorch state dict "
                    f"({type(e).__name__}: {e}); give the .pth file written "
                    "by torch.save, or a .npz") from None
