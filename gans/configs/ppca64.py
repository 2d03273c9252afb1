"""PPCA with k = 64 components on MNIST.

The run: results/ppca64_mnist. The closed-form baseline of the unconditional GANs. k = 64 is
the original work's "about 64 components", where the component sweep
(results/first_version/ppca_sweep_mnist) finds sample quality levelling off. A fit has no epochs,
batches or learning rate.

The dataset is the config's argument, MNIST by default:
`--config=gans/configs/ppca64.py:fashion_mnist`.

On Fashion-MNIST (`:fashion_mnist`): results/ppca64_fashion_mnist. k = 64 is kept as on
MNIST, though the component sweep (results/first_version/ppca_sweep_fashion_mnist) finds
samples still improving up to k = 256.
"""
from gans.configs import default
from gans.core.families import ppca as family


def get_config(dataset='mnist'):
  config = default.add_family_section(default.get_config(), family.PPCASpec)
  config.model = 'ppca'
  config.dataset = dataset
  config.ppca.components = 64
  config.ppca.class_conditional = False
  return config
