"""Model families by name: `build(config, axis_name)` returns (generator, discriminator); PPCA's
discriminator is None."""
from gans.models import conditional, dcgan, mlp, ppca

UNCONDITIONAL = {'mlp': mlp, 'dcgan': dcgan}
MODELS = {**UNCONDITIONAL, **{name: conditional for name in conditional.MODELS}, 'ppca': ppca}

# The seed hyper-parameters of each backbone, used for config fields left as None.
MODEL_DEFAULTS = {
    'mlp': {'learning_rate': 2e-4, 'batch_size': 128},
    'dcgan': {'learning_rate': 1e-4, 'batch_size': 256},
}


def backbone(config) -> str:
  """The architecture under the model (its config section): itself, or a conditional model's
  `conditional.backbone`."""
  return config.conditional.backbone if config.model in conditional.MODELS else config.model


def build(config, axis_name=None):
  return MODELS[config.model].build(config, axis_name)


def build_encoders(config):
  """E-cGAN's image encoders (gans.models.conditional.Encoders); None for every other model."""
  return conditional.build_encoders(config) if config.model in conditional.MODELS else None
