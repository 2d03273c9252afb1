"""Class-conditional PPCA, k = 64 per class, on MNIST.

The run: results/cppca64_mnist. One PPCA per class, sampled like a cGAN: the closed-form
baseline of the conditional GANs. k = 64 is the original work's "about 64 components", where the
component sweep (results/first_version/ppca_sweep_mnist) finds sample quality levelling off. A fit
has no epochs, batches or learning rate.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/cppca64.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): results/cppca64_fashion_mnist. k = 64 is kept as on
MNIST, though the component sweep (results/first_version/ppca_sweep_fashion_mnist) finds
samples still improving up to k = 256.
"""
from gans.configs import ppca64


def get_config(dataset='mnist'):
  config = ppca64.get_config(dataset)
  config.ppca.class_conditional = True  # the same k, one PPCA per class
  return config
