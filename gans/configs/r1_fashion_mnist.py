"""R1: the seed MLP GAN with the R1 penalty (gamma = 10), on Fashion-MNIST for 30 epochs.

The settings of r1_mnist.py on the other dataset, so it compares with mlp_fashion_mnist.py.
"""
from gans.configs import r1_mnist


def get_config():
  config = r1_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
