"""The family registry: the one place that reads `config.model`.

Adding a GAN: a file in this folder with a subclass of `gan.GAN` overriding what differs in
training (its networks and losses) and a subclass of `gan.GANSpec`, its `Spec`, overriding what
differs elsewhere (its config section, validation, identity, title, grid and report), and one line
in FAMILIES naming its class; or `register(name, family_class)` from outside the package. The shared
layers ask the registry about a run's family and never name one.
"""
from gans.core import data
from gans.core.errors import check_choice
from gans.core.families import acgan, bigan, ccgan, cgan, ecgan, gan, infogan, ppca

# model name -> family class. 'mlp' and 'dcgan' are the unconditional GAN on that backbone.
FAMILIES = {
    'mlp': gan.GAN,
    'dcgan': gan.GAN,
    'cgan': cgan.CGAN,
    'acgan': acgan.ACGAN,
    'ecgan': ecgan.ECGAN,
    'ccgan': ccgan.CCGAN,
    'infogan': infogan.InfoGAN,
    'bigan': bigan.BiGAN,
    'ppca': ppca.PPCA,
}
BACKBONES = tuple(gan.BACKBONES)


def register(name: str, family_class: type):
  """Makes `name` a model of `family_class`, a gan.GAN subclass, for every layer."""
  if not (isinstance(family_class, type) and issubclass(family_class, gan.GAN)):
    raise TypeError(f'a family is a subclass of gans.core.families.gan.GAN, got {family_class!r}')
  FAMILIES[name] = family_class


def models() -> tuple:
  """The model names, in the order the results pages list them."""
  return tuple(FAMILIES)


def family_class(model: str) -> type:
  check_choice('model', model, models())
  return FAMILIES[model]


def spec(model: str) -> type:
  """The family's `gan.GANSpec` subclass: what the code asks about its runs but training."""
  return family_class(model).Spec


def backbone(config):
  """The backbone network (its config section) of the model; None for a closed-form fit."""
  return spec(config.model).backbone_of(config)


def build(config) -> gan.GAN:
  family = family_class(config.model)
  return family(config, family.Spec.backbone_of(config),
                data.get_info(config.dataset).num_classes)
