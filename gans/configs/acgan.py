"""AC-GAN, MLP backbone, on MNIST for 25 epochs.

The same model and optimiser at 100 epochs: results/acgan100_mnist (acgan100.py). The backbone's
original settings, the baseline MLP GAN's (`conditional.backbone = 'mlp'`, the default: learning
rate 2e-4, batch 128); every member of the conditional family trains the same 25 epochs, so their
runs compare at one length. The class cross-entropies keep their default weight, 1.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/acgan.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): at 100 epochs, results/acgan100_fashion_mnist.
"""
from gans.configs import default
from gans.core.families import acgan as family


def get_config(dataset='mnist'):
  config = default.add_family_section(default.get_config(), family.ACGANSpec)
  config.model = 'acgan'
  config.dataset = dataset
  config.num_epochs = 25
  return config
