"""Probabilistic PCA (Tipping & Bishop 1999), one model or one per class: the classical baseline.

Fitted in closed form (`gans.core.models.ppca.fit_generator`, run by the training layer) rather
than trained by steps: there is no discriminator. Its generator takes the noise (z, eps) as one
vector of k + 784 numbers, and the class-conditional one also a label, so sampling, export,
evaluation and the augmentation experiment use it as they use a GAN.
"""
from gans.core.errors import UsageError, check_integer
from gans.core.families import gan
from gans.core.models import ppca


class PPCASpec(gan.GANSpec):
  section = 'ppca'

  @classmethod
  def section_defaults(cls) -> dict:
    return {
        'components': 64,  # k, the latent dimension; its noise is (z, eps): latent_dim = k + 784
        'class_conditional': False,  # True: one PPCA per class, sampled like a cGAN
    }

  @classmethod
  def backbone_of(cls, config):
    return None  # no networks to choose: the generator is the fitted model

  @classmethod
  def check_config(cls, config):
    """No steps, batches or optimiser; its noise (z, eps) sets latent_dim."""
    k = config['ppca']['components']
    check_integer('ppca.components', k, 1, ppca.DIM - 1)
    if not isinstance(config['ppca']['class_conditional'], bool):
      raise UsageError(f'ppca.class_conditional must be true or false, got '
                       f'{config["ppca"]["class_conditional"]!r}')
    if config['eval_every_steps']:
      raise UsageError('eval_every_steps: a ppca is fitted in one closed-form step; score it '
                       'with evaluate.py')
    config['latent_dim'] = k + ppca.DIM

  @classmethod
  def identity(cls, config) -> dict:
    return {'architecture': config['ppca'].to_dict()}

  @classmethod
  def title(cls, config) -> str:
    kind = 'class-conditional PPCA' if config['ppca']['class_conditional'] else 'PPCA'
    return f'{kind}, k = {config["ppca"]["components"]}'


class PPCA(gan.GAN):
  Spec = PPCASpec
  closed_form = True

  def fit(self, images, labels):
    """The generator's params: the closed-form fit the training layer runs instead of steps."""
    return ppca.fit_generator(images, labels, self.config.ppca.components, self.label_model)

  def describe_fit(self, params, train, test) -> tuple:
    """(what was fitted, in words; {metric: value} of the fit on the (images, labels) of the
    train and test splits): the mean log-likelihood per image."""
    what = (f'ppca (k={self.config.ppca.components}'
            f'{", one per class" if self.label_model else ""})')
    return what, {'train_log_likelihood': ppca.mean_log_likelihood(params, *train),
                  'test_log_likelihood': ppca.mean_log_likelihood(params, *test)}

  def __init__(self, config, backbone, num_classes):
    super().__init__(config, backbone, num_classes)
    self.label_model = config.ppca.class_conditional

  def networks(self, axis_name=None) -> gan.Networks:
    del axis_name
    return gan.Networks(ppca.Generator(self.config.ppca.components,
                                       self.num_classes if self.label_model else 0), None)
