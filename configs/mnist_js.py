r"""mnist_wgan.py with the JS discriminator of Eq. 14 instead of the
Wasserstein critic (as fmnist_js.py is to fmnist_wgan.py).

  python launch/main.py --config=configs/mnist_js.py --workdir=/tmp/mnist_js
"""

from configs import mnist_wgan


def get_config(arg: str = ""):
  config = mnist_wgan.get_config(arg)
  config.method.divergence = "js"
  config.method.gp_weight = 0.0  # the gradient penalty belongs to the W critic
  return config
