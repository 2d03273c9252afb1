"""E-cGAN, MLP backbone, on MNIST for 25 epochs.

The same model at 100 epochs: results/ecgan100_mnist (ecgan100.py). The backbone's original
settings, the baseline MLP GAN's (`conditional.backbone = 'mlp'`, the default: learning rate 2e-4,
batch 128); every member of the conditional family trains the same 25 epochs, so that their runs
compare at one length. The cGAN trains beside its image encoders E_z and E_y (IcGAN), which the
evaluation uses for reconstruction and label swap.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/ecgan.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): at 100 epochs, results/ecgan100_fashion_mnist.
"""
from gans.configs import default
from gans.core.families import ecgan as family


def get_config(dataset='mnist'):
  config = default.add_family_section(default.get_config(), family.ECGANSpec)
  config.model = 'ecgan'
  config.dataset = dataset
  config.num_epochs = 25
  return config
