"""AC-GAN, MLP backbone, on MNIST for 25 epochs.

The run made by the first release of this code: results/first_version/acgan_mnist. The backbone's
original settings, the baseline MLP GAN's (`conditional.backbone = 'mlp'`, the default: learning
rate 2e-4, batch 128); every member of the conditional family trains the same 25 epochs, so their
rows in results/first_version/REPORT.md compare at one length. The class cross-entropies keep their
default weight, 1.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/acgan.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): results/first_version/acgan_fashion_mnist.
"""
from gans.configs import default


def get_config(dataset='mnist'):
  config = default.get_config()
  config.model = 'acgan'
  config.dataset = dataset
  config.num_epochs = 25
  return config
