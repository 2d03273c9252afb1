"""mlp200_mnist.py on Fashion-MNIST (200 epochs, EMA of G); not run yet: results/lengths.md."""
from gans.configs import mlp200_mnist


def get_config():
  config = mlp200_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
