"""mlp200_mnist.py on Fashion-MNIST (200 epochs, EMA of G): results/mlp200_fashion_mnist.

At epoch 200 the EMA's Fréchet distance is 20.7 against G's 39.8 (real 0.35).
"""
from gans.configs import mlp200_mnist


def get_config():
  config = mlp200_mnist.get_config()  # the same experiment, on the other dataset
  config.dataset = 'fashion_mnist'
  return config
