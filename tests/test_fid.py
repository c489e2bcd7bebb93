"""FID: the torch-free weight reader against files PyTorch wrote, and the
Flax FID Inception against pytorch-fid's network run by PyTorch."""

import os
import pickle

import jax
import numpy as np
import pytest

import fid_weights
from wcgen.errors import DataError
from wcgen.eval import fid
from wcgen.eval import frechet
from wcgen.eval import torch_pickle

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


@pytest.mark.parametrize("fmt", ["zip", "legacy"])
def test_torch_state_dict_reader_matches_torch(fmt):
  """Both torch.save formats, written by PyTorch 2.13: dtypes, shapes, a
  transposed tensor, a view at an offset into a shared storage, a scalar."""
  got = torch_pickle.load_state_dict(
      os.path.join(DATA, f"torch_state_dict_{fmt}.pth"))
  with np.load(os.path.join(DATA, "torch_state_dict_reference.npz")) as ref:
    assert sorted(got) == sorted(ref.files)
    for name in ref.files:
      assert got[name].dtype == ref[name].dtype, name
      np.testing.assert_array_equal(got[name], ref[name], err_msg=name)
  assert got["b.weight"].shape == (5, 6) and got["e.view"].shape == (5,)
  assert got["a.bn.num_batches_tracked"] == 7


def test_reader_refuses_code_and_damaged_files(tmp_path):
  evil = tmp_path / "evil.pth"
  with open(evil, "wb") as f:
    for header in (0x1950A86A20F9469CFC6C, 1001, {}):
      pickle.dump(header, f)
    pickle.dump({"x": os.system}, f)  # a global outside a state dict
  with pytest.raises(DataError, match="posix.system|os.system"):
    torch_pickle.load_state_dict(str(evil))
  raw = open(os.path.join(DATA, "torch_state_dict_legacy.pth"), "rb").read()
  cut = tmp_path / "cut.pth"
  cut.write_bytes(raw[:-20])
  with pytest.raises(DataError, match="truncated"):
    torch_pickle.load_state_dict(str(cut))
  junk = tmp_path / "junk.pth"
  junk.write_bytes(b"not a weight file")
  with pytest.raises(DataError, match="cannot read|not a torch.save"):
    torch_pickle.load_state_dict(str(junk))


def _reference():
  ref = np.load(os.path.join(DATA, "fid_reference.npz"))
  shapes = {str(n): tuple(int(d) for d in str(s).split("x")) if str(s) else ()
            for n, s in zip(ref["names"], ref["shapes"])}
  return shapes, ref["features"]


def test_flax_fid_inception_matches_pytorch_fid():
  """Seeded weights under torchvision's state-dict names, loaded by name:
  the pool_3 features equal what PyTorch computed with pytorch-fid's
  network (tests/data/make_fid_reference.py) on the same images."""
  shapes, expected = _reference()
  variables = fid.variables_from_state_dict(fid_weights.state_dict(shapes))
  got = fid.feature_fn(variables)(fid_weights.images())
  assert got.shape == (3, 2048)
  np.testing.assert_allclose(got, expected, rtol=1e-4, atol=2e-5)


def test_parameter_count_is_torchvisions_inception_without_its_head():
  variables = jax.eval_shape(fid.init_inception, jax.random.PRNGKey(0))
  count = sum(int(np.prod(x.shape)) for x in
              jax.tree.leaves(variables["params"]))
  # torchvision's inception_v3 (no aux head): 23,834,568, of which the
  # 1000-way fc holds 2,049,000.
  assert count == 23_834_568 - 2_049_000


def test_npz_round_trip_and_fid_is_deterministic(tmp_path):
  shapes, _ = _reference()
  variables = fid.variables_from_state_dict(
      fid_weights.state_dict(shapes, seed=3))
  path = str(tmp_path / "inception.npz")
  fid.save_npz(variables, path)
  loaded = fid.load_inception(path)
  for (p, a), (_, b) in zip(jax.tree_util.tree_leaves_with_path(variables),
                            jax.tree_util.tree_leaves_with_path(loaded)):
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b),
                                  err_msg=jax.tree_util.keystr(p))
  features = fid.feature_fn(loaded)
  a = fid_weights.images(seed=1)
  b = np.clip(a + 0.5, -1, 1)
  first = fid.fid(features, a, b)
  assert first == fid.fid(features, a, b)  # deterministic
  assert first > 0 and fid.fid(features, a, a) == pytest.approx(0, abs=1e-6)
  fa, fb = features(a), features(b)
  assert first == pytest.approx(frechet.feature_distance(fa, fb))


def test_weight_file_errors_are_one_line(tmp_path):
  with pytest.raises(DataError, match="does not exist"):
    fid.load_inception(str(tmp_path / "missing.pth"))
  with pytest.raises(DataError, match="nothing is downloaded"):
    fid.load_inception("")
  partial = str(tmp_path / "partial.npz")
  np.savez(partial, **{"Conv2d_1a_3x3.conv.weight": np.zeros((32, 3, 3, 3))})
  with pytest.raises(DataError, match="lacks .* tensors"):
    fid.load_inception(partial)
  shapes, _ = _reference()
  state = fid_weights.state_dict(shapes)
  state["Mixed_7c.branch_pool.conv.weight"] = np.zeros((192, 2048, 3, 3))
  with pytest.raises(DataError, match="has shape"):
    fid.variables_from_state_dict(state)
