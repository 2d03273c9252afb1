"""The family registry: the one place that reads `config.model`.

Adding a GAN: a file in this folder with a subclass of `gan.GAN` overriding what differs, and
one line in FAMILIES naming its class and the config section of its backbone.
"""
from gans.core import data
from gans.core.families import acgan, bigan, ccgan, cgan, ecgan, gan, infogan, ppca

UNCONDITIONAL = 'unconditional'  # the backbone is the model itself: 'mlp' or 'dcgan'
CONDITIONAL = 'conditional'  # the backbone is config.conditional.backbone
FIXED = 'fixed'  # no backbone section (PPCA)
INFOGAN = 'infogan'  # the backbone is config.infogan.backbone
MLP = 'mlp'  # always the MLP backbone (BiGAN: D takes the code beside the flattened image)

# model name -> (family class, where its backbone comes from)
FAMILIES = {
    'mlp': (gan.GAN, UNCONDITIONAL),
    'dcgan': (gan.GAN, UNCONDITIONAL),
    'cgan': (cgan.CGAN, CONDITIONAL),
    'acgan': (acgan.ACGAN, CONDITIONAL),
    'ccgan': (ccgan.CCGAN, CONDITIONAL),
    'ecgan': (ecgan.ECGAN, CONDITIONAL),
    'infogan': (infogan.InfoGAN, INFOGAN),
    'bigan': (bigan.BiGAN, MLP),
    'ppca': (ppca.PPCA, FIXED),
}
MODELS = tuple(FAMILIES)
BACKBONES = tuple(gan.BACKBONES)


def backbone(config):
  """The backbone network (its config section) of the model; None for PPCA."""
  source = FAMILIES[config.model][1]
  return {UNCONDITIONAL: config.model, CONDITIONAL: config.conditional.backbone,
          INFOGAN: config.infogan.backbone, MLP: 'mlp', FIXED: None}[source]


def build(config) -> gan.GAN:
  family_class, _ = FAMILIES[config.model]
  return family_class(config, backbone(config), data.get_info(config.dataset).num_classes)


def uses_section(config, section: str) -> bool:
  """Whether the model's behaviour depends on config.<section> ('conditional', 'infogan',
  'ppca')."""
  return {'conditional': FAMILIES[config.model][1] == CONDITIONAL,
          'infogan': FAMILIES[config.model][1] == INFOGAN,
          'ppca': FAMILIES[config.model][1] == FIXED}[section]
