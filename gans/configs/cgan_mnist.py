"""Conditional GAN, MLP backbone, on MNIST for 25 epochs: results/first_version/cgan_mnist.

The backbone's seed settings (`conditional.backbone = 'mlp'`, the default: learning rate 2e-4, batch
128); every member of the conditional family trains the same 25 epochs, so their rows in
results/first_version/REPORT.md compare at one length.
"""
from gans.configs import default


def get_config():
  config = default.get_config()
  config.model = 'cgan'
  config.dataset = 'mnist'
  config.num_epochs = 25
  return config
