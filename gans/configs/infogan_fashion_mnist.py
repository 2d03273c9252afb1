"""InfoGAN, MLP backbone, on Fashion-MNIST for 25 epochs.

The settings of infogan_mnist.py (the reference code's MNIST experiment: 10-way categorical and
2 continuous codes, 62 noise dimensions, Adam 1e-3 for G and 2e-4 for D) on the other dataset,
whose ten classes the categorical code may or may not find.
"""
from gans.configs import infogan_mnist


def get_config():
  config = infogan_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
