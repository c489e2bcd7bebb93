r"""SVHN trained clean, tested on distorted images: the paper's Table 2.

The default test set carries Gaussian noise sigma=0.5 on 70% of images
(the paper's SVHN columns: G(0.5), G(0.7), S(0.1)); results hold both the
clean and the distorted accuracy. Needs train_32x32.mat and test_32x32.mat
in --config.data.data_dir/svhn_cropped or $WCGEN_DATA_DIR/svhn_cropped.

  python launch/main.py --config=configs/svhn_wgan.py --workdir=/tmp/svhn \
      [--config.data.test_distortion=salt_pepper \
       --config.data.test_distortion_level=0.1]

Everything not set here is cifar_wgan.py's (and fmnist_wgan.py's).
"""

from configs import cifar_wgan


def get_config(arg: str = ""):
  config = cifar_wgan.get_config(arg)
  config.data.name = "svhn_cropped"
  config.data.imbalance_factor = 1.0  # clean, balanced-as-given training set
  config.data.test_distortion = "gaussian"
  config.data.test_distortion_level = 0.5
  config.data.test_distortion_fraction = 0.7
  config.data.augment.flip = False  # a mirrored digit is no digit
  return config
