r"""Writes fid_reference.npz: pytorch-fid's FID Inception features of seeded
images under seeded weights, computed with PyTorch and torchvision.

Not run by the suite (wcgen has no PyTorch dependency); tests/test_fid.py
checks wcgen's Flax network against the file it writes. Made with torch
2.14.1 and torchvision 0.29.1:

  python tests/data/make_fid_reference.py tests/data/fid_reference.npz

The network is torchvision's Inception-v3 (1008 classes, no aux head) with
the blocks pytorch-fid patches for FID: padding-free average pools in
blocks A, C and E, and a max pool in the last E block.
"""

import os
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F
from torchvision.models import inception as tv_inception

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import fid_weights  # pylint: disable=g-import-not-at-top,wrong-import-position


def _pool(x):
  return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)


def _block_a(self, x):
  b5 = self.branch5x5_2(self.branch5x5_1(x))
  b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
  return torch.cat([self.branch1x1(x), b5, b3, self.branch_pool(_pool(x))], 1)


def _block_c(self, x):
  b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
  bd = x
  for i in range(1, 6):
    bd = getattr(self, f"branch7x7dbl_{i}")(bd)
  return torch.cat([self.branch1x1(x), b7, bd, self.branch_pool(_pool(x))], 1)


def _block_e(pool):
  def forward(self, x):
    b3 = self.branch3x3_1(x)
    b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
    bd = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
    bd = torch.cat([self.branch3x3dbl_3a(bd), self.branch3x3dbl_3b(bd)], 1)
    return torch.cat([self.branch1x1(x), b3, bd, self.branch_pool(pool(x))],
                     1)
  return forward


def fid_inception():
  net = tv_inception.inception_v3(weights=None, aux_logits=False,
                                  init_weights=False, num_classes=1008)
  patches = {"Mixed_5b": _block_a, "Mixed_5c": _block_a, "Mixed_5d": _block_a,
             "Mixed_6b": _block_c, "Mixed_6c": _block_c, "Mixed_6d": _block_c,
             "Mixed_6e": _block_c, "Mixed_7b": _block_e(_pool),
             "Mixed_7c": _block_e(lambda x: F.max_pool2d(x, 3, 1, 1))}
  for name, forward in patches.items():
    block = getattr(net, name)
    block.forward = types.MethodType(forward, block)
  return net.eval()


def features(net, x):
  x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
  for name in ("Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "maxpool1",
               "Conv2d_3b_1x1", "Conv2d_4a_3x3", "maxpool2", "Mixed_5b",
               "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
               "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c"):
    x = getattr(net, name)(x)
  return F.adaptive_avg_pool2d(x, 1).flatten(1)


def main(out):
  net = fid_inception()
  shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
  state = fid_weights.state_dict(shapes)
  net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
  images = fid_weights.images()
  with torch.no_grad():
    feats = features(net, torch.from_numpy(images).permute(0, 3, 1, 2))
  # The state dict's names and shapes, as torch has them: the test builds
  # the same weights from these, independently of wcgen's name mapping.
  np.savez(out, features=feats.numpy(), names=np.array(list(shapes)),
           shapes=np.array(["x".join(map(str, s)) for s in shapes.values()]),
           torch=torch.__version__)
  print(out, feats.shape, float(feats.abs().mean()))


if __name__ == "__main__":
  main(sys.argv[1])
