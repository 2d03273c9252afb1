"""cgan100_mnist.py on Fashion-MNIST (100 epochs, EMA of G): results/cgan100_fashion_mnist.

At epoch 100 the EMA's Fréchet distance is 11.1 against G's 34.4, with conditional accuracy 0.918.
"""
from gans.configs import cgan100_mnist


def get_config():
  config = cgan100_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
