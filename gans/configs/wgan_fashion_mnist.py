"""WGAN with weight clipping, MLP backbone, on Fashion-MNIST for 50 epochs.

The settings of wgan_mnist.py (the paper's and its reference code's: RMSprop 5e-5, n_critic 5,
clip 0.01, batch 64) on the other dataset.
"""
from gans.configs import wgan_mnist


def get_config():
  config = wgan_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
