r"""Long-tailed Fashion-MNIST, worst-case game with a JS discriminator (Eq. 14).

Same as fmnist_wgan.py except the critic: a standard GAN discriminator
(sigmoid cross-entropy), and G maximises lam * log sigmoid(D(G(z, y), y)) +
CE (the non-saturating form of Eq. 14's discriminator term). No gradient
penalty: it belongs to the Wasserstein critic.

  python launch/main.py --config=configs/fmnist_js.py --workdir=/tmp/fm_js
"""

from configs import fmnist_wgan


def get_config(arg: str = ""):
  config = fmnist_wgan.get_config(arg)
  config.method.divergence = "js"
  config.method.gp_weight = 0.0
  return config
