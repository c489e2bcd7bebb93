r"""Long-tailed MNIST, worst-case game with a Wasserstein critic.

Same settings as fmnist_wgan.py on MNIST (the paper's Table 1 MNIST columns:
imbalance factors 100, 20, 1). Needs the four MNIST IDX .gz files in
--config.data.data_dir/mnist or $WCGEN_DATA_DIR/mnist.

  python launch/main.py --config=configs/mnist_wgan.py --workdir=/tmp/mnist
"""

from configs import fmnist_wgan


def get_config(arg: str = ""):
  config = fmnist_wgan.get_config(arg)
  config.data.name = "mnist"
  config.data.augment.flip = False  # a mirrored digit is no digit
  return config
