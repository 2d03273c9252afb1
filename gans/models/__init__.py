"""Model families by name: each module's `build(config, axis_name)` returns (generator, discriminator)."""
from gans.models import dcgan, mlp

MODELS = {'mlp': mlp, 'dcgan': dcgan}

# The seed hyper-parameters of each family, used for config fields left as None.
MODEL_DEFAULTS = {
    'mlp': {'learning_rate': 2e-4, 'batch_size': 128},
    'dcgan': {'learning_rate': 1e-4, 'batch_size': 256},
}


def build(config, axis_name=None):
  return MODELS[config.model].build(config, axis_name)
