"""Conditional GAN, MLP backbone, on Fashion-MNIST for 25 epochs.

The run of the first version: results/first_version/cgan_fashion_mnist. The backbone's seed settings
(`conditional.backbone = 'mlp'`, the default: learning rate 2e-4, batch 128); every member of the
conditional family trains the same 25 epochs, so their rows in results/first_version/REPORT.md
compare at one length.
"""
from gans.configs import cgan_mnist


def get_config():
  config = cgan_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
