"""WGAN with weight clipping (Arjovsky et al. 2017), MLP backbone, on MNIST for 50 epochs.

The paper's and its reference code's settings (github.com/martinarjovsky/WassersteinGAN):
RMSprop with learning rate 5e-5 for both networks and PyTorch's defaults (squared-gradient decay
0.99, here `b2`; eps 1e-8), n_critic = 5 critic updates per generator update, the critic's
weights clipped to [-0.01, 0.01] after every update, batch 64. The reference's extra 100-critic
bursts (first 25 generator steps and every 500th) are not reproduced: n_critic is constant. The
baseline MLP GAN's widths; the critic has no dropout, as the reference's has none: dropout makes the
critic's estimate of the distance noisy. 50 epochs of 937 steps give about 9,400 generator
updates, the slow learning rate needs them.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/wgan.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): the same settings.
"""
from gans.configs import default


def get_config(dataset='mnist'):
  config = default.get_config()
  config.model = 'mlp'
  config.dataset = dataset
  config.loss = 'wasserstein_clip'
  config.clip_value = 0.01
  config.n_critic = 5
  config.optimizer = 'rmsprop'
  config.learning_rate = 5e-5
  config.b2 = 0.99  # RMSprop's decay (PyTorch's alpha)
  config.batch_size = 64
  config.mlp.dropout_rate = 0.0
  config.num_epochs = 50
  return config
