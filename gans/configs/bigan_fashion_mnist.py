"""BiGAN / ALI, MLP backbone, on Fashion-MNIST for 30 epochs.

The settings of bigan_mnist.py on the other dataset, so it compares with mlp_fashion_mnist.py.
"""
from gans.configs import bigan_mnist


def get_config():
  config = bigan_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
