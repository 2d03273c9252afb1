"""BiGAN / ALI (Donahue et al. 2017; Dumoulin et al. 2017): G(z) -> x, an encoder E(x) -> z, and
D on (x, z) pairs, on the backbone `bigan.backbone` names (the MLP, by default, or the DCGAN).

D learns to tell real pairs (x, E(x)) from fake ones (G(z), z); G and E learn jointly to fool it.
E is D's backbone network with z's size as output, without dropout or the layers that keep
statistics (batch norm, spectral normalisation): on the DCGAN backbone D's convolutions and dense
layers. D appends the code to the flattened image on the MLP backbone, and to the features of its
convolutions on the DCGAN backbone, before its dense layers (`gans.core.models.bigan`).
G and E are one module (`gans.core.models.bigan.GeneratorEncoder`) whose step output is
{'image': G(z), 'code': E(x)}, so the shared step's one generator update trains both: G's term
is the run's generator loss on the fake pairs; E's is the same loss on the real pairs with their
logit negated (E wants D to call them fake; for the logistic losses this is the flipped-label
cross-entropy of the papers, for hinge and Wasserstein critics minus the critic's value). The
least-squares loss has no such mirror and is refused. At the optimum E inverts G, so evaluate.py
reconstructs test images as G(E(x)).

With batch norm in D, E's term runs D on the real pairs beside the fakes (the shared step's
`real_heads`), as D's update does, so batch norm by halves sees the same halves on one device or
many: jit, pmap and sharded agree.
"""
import jax
import ml_collections
import numpy as np

from gans.core import losses
from gans.core.errors import UsageError
from gans.core.families import ecgan, gan
from gans.core.models import bigan


class BiGANSpec(gan.GANSpec):
  report_stem = 'eval_bigan'
  report_figures = (('reconstructions.png', 'reconstructions'),)
  report_table = ecgan.ENCODER_TABLE
  # Generator losses g(logit) for which g(-logit) means "call this pair fake" (see above).
  allowed_losses = ('non_saturating', 'minimax', 'hinge', 'wasserstein_gp', 'wasserstein_clip')

  section = 'bigan'
  backbone_in_section = True

  @classmethod
  def section_defaults(cls) -> dict:
    return {'backbone': 'mlp'}  # or 'dcgan'; its section sets the widths, learning rate, batch

  @classmethod
  def settings(cls, config):
    """config.bigan; a run saved before BiGAN had its section (results' run.json, workdirs),
    when it was MLP-only, has the defaults, so its identity and title are what they were."""
    return config[cls.section] if cls.section in config else cls.section_defaults()

  @classmethod
  def backbone_of(cls, config):
    return cls.settings(config)['backbone']

  @classmethod
  def check_config(cls, config):
    super().check_config(config)
    if cls.backbone_of(config) == 'dcgan' and not config['dcgan']['discriminator_dense_widths']:
      raise UsageError('a bigan on the dcgan backbone needs dcgan.discriminator_dense_widths: '
                       'x and z meet in D\'s dense layers; without one D\'s logit is a term in x '
                       'plus a term in z, blind to how they pair')

  @classmethod
  def identity(cls, config) -> dict:
    """The shared identity, with the defaults for a run saved before the section."""
    if cls.section not in config:
      config = ml_collections.ConfigDict({**config.to_dict(), cls.section: cls.settings(config)})
    return super().identity(config)

  @classmethod
  def title(cls, config) -> str:
    backbone = cls.backbone_of(config)
    # The MLP BiGAN keeps the title it had before the backbone was a choice.
    return 'BiGAN' if backbone == 'mlp' else f'BiGAN ({backbone} backbone)'

  @classmethod
  def describe_report(cls, report) -> str:
    """The report in one sentence, for the results pages."""
    return (f'reconstruction G(E(x)) MSE {report["reconstruction_mse"]:.4f}, the evaluator '
            f'recognises {report["evaluator_accuracy_reconstructed"]:.4f} of reconstructions '
            f'(originals {report["evaluator_accuracy_original"]:.4f}).')

  def report(self, networks, state, context) -> dict:
    """Reconstruction G(E(x)) of `context.num_samples` test images, as E-cGAN's without its
    label: the squared error and the evaluator's accuracy on the reconstructions;
    reconstructions.png."""
    originals, labels = context.test_images(context.num_samples)
    variables = context.generator_variables()
    generator = context.generator()
    encode = jax.jit(lambda x: networks.generator.apply(variables, x, method='encode'))
    rebuilt = context.batched(jax.jit(generator), context.batched(encode, originals))
    report = {
        'model': 'bigan', 'dataset': self.family.config.dataset,
        'num_test_images': len(originals), 'classifier': context.evaluator_info,
        'reconstruction_mse': float(np.mean((rebuilt - originals) ** 2)),
        'evaluator_accuracy_reconstructed': context.evaluator_accuracy(rebuilt, labels),
        'evaluator_accuracy_original': context.evaluator_accuracy(originals, labels),
    }
    context.save_grid('reconstructions.png', np.concatenate([originals[:10], rebuilt[:10]]),
                      columns=10, title='test images (top) and G(E(x))')
    return report


class BiGAN(gan.GAN):
  Spec = BiGANSpec

  def __init__(self, config, backbone, num_classes):
    super().__init__(config, backbone, num_classes)
    self.loss = losses.LOSSES[config.loss]

  def networks(self, axis_name=None) -> gan.Networks:
    generator, discriminator = gan.BACKBONES[self.backbone].build(self.config, axis_name)
    encoder = gan.BACKBONES[self.backbone].without_statistics(discriminator).clone(
        outputs=self.latent_dim, dropout_rate=0.0)
    return gan.Networks(bigan.GeneratorEncoder(generator, encoder),
                        bigan.PAIR_DISCRIMINATORS[self.backbone](discriminator))

  def generator_input(self, draws, batch):
    return {'z': draws['z'], 'image': batch['image']}

  def discriminator_pairs(self, fake, batch, draws):
    return (batch['image'], fake['code']), (fake['image'], draws['z'])

  def discriminator_input(self, images, condition):
    return {'image': images, 'code': condition}

  def generator_terms(self, fake_heads, draws, real_heads):
    del fake_heads, draws
    encoder_loss = self.loss.g_loss(-real_heads()['adv'])
    return encoder_loss, {'e_adv_loss': encoder_loss}
