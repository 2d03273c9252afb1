"""The baseline MLP GAN on MNIST for 30 epochs: results/mlp_mnist.

The Goodfellow et al. 2014 style MLP networks of the reference MLP GAN implementation (G widths
256-512-1024, D 1024-512-256). Every setting but the length is that implementation's:
`model = 'mlp'` brings its learning rate 2e-4 and batch 128 (Adam, b1 = 0.5); 30 epochs instead of
the default 50 kept the run short on a CPU.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/mlp.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): results/mlp_fashion_mnist.
"""
from gans.configs import default


def get_config(dataset='mnist'):
  config = default.get_config()
  config.model = 'mlp'
  config.dataset = dataset
  config.num_epochs = 30
  return config
