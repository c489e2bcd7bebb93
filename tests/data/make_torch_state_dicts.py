r"""Writes the torch.save fixtures of tests/test_fid.py with real PyTorch
(2.13.0 here): one state dict in the zip format, the same in the legacy
format, and its arrays as .npz for reference. Not run by the suite.

  python tests/data/make_torch_state_dicts.py \
      tests/data/torch_state_dict_zip.pth \
      tests/data/torch_state_dict_legacy.pth \
      tests/data/torch_state_dict_reference.npz
"""

import collections
import sys

import numpy as np
import torch

sd = collections.OrderedDict()
g = torch.Generator().manual_seed(0)
sd["a.conv.weight"] = torch.randn(4, 3, 3, 2, generator=g)
sd["a.bn.running_var"] = torch.rand(4, generator=g) + 0.5
sd["a.bn.num_batches_tracked"] = torch.tensor(7)
sd["b.weight"] = torch.randn(6, 5, generator=g).t()  # non-contiguous
sd["c.idx"] = torch.arange(5, dtype=torch.int64)
sd["d.half"] = torch.randn(3, generator=g).half()
big = torch.randn(10, generator=g)
sd["e.view"] = big[2:7]  # an offset into a storage shared with e.full
sd["e.full"] = big
torch.save(sd, sys.argv[1])
torch.save(sd, sys.argv[2], _use_new_zipfile_serialization=False)
np.savez(sys.argv[3], **{k: v.numpy() for k, v in sd.items()})
