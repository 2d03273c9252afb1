"""E-cGAN / IcGAN (Perarnau et al. 2016): the cGAN plus encoders E_z(x) -> z and E_y(x) -> y.

The encoders (each the backbone discriminator without dropout or spectral normalisation) learn
every step to invert that step's generated images: mean squared error to z and cross-entropy to
y. Evaluation then reconstructs real images G(E_z(x), E_y(x)) and swaps their labels
G(E_z(x), y').
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

from gans.core import data, losses
from gans.core.families import cgan, gan
from gans.core.models import conditional


# The results pages' table of encoders, shared with BiGAN (whose report has no label fields).
ENCODER_TABLE = {
    'title': 'Encoders: reconstruction (E-cGAN / IcGAN, BiGAN) and label swap',
    'intro': 'Real test images x encoded and regenerated: G(E_z(x), E_y(x)) by an E-cGAN, '
             'G(E(x)) by a BiGAN; label swap (E-cGAN): G(E_z(x), y\') with y\' the class after '
             'the true one.',
    'columns': [('reconstruction MSE ↓', 'reconstruction_mse', 4),
                ('E_y accuracy on test images', 'label_encoder_accuracy', 4),
                ('evaluator acc. reconstructed', 'evaluator_accuracy_reconstructed', 4),
                ('evaluator acc. original', 'evaluator_accuracy_original', 4),
                ('evaluator agrees with swapped label', 'evaluator_agreement_swapped', 4)],
    'footer': 'On {num_test_images:,} test images.',
}


class ECGANSpec(cgan.CGANSpec):
  """Its evaluation report (IcGAN, Perarnau et al. 2016): reconstruction and label swap."""
  report_stem = 'eval_icgan'
  report_figures = (('reconstructions.png', 'reconstructions'), ('label_swap.png', 'label swap'))
  report_table = ENCODER_TABLE
  name = 'E-cGAN'

  @classmethod
  def describe_report(cls, report) -> str:
    """The report in one sentence, for the results pages."""
    return (f'reconstruction MSE {report["reconstruction_mse"]:.4f}, the evaluator recognises '
            f'{report["evaluator_accuracy_reconstructed"]:.4f} of reconstructions (originals '
            f'{report["evaluator_accuracy_original"]:.4f}) and agrees with the swapped label on '
            f'{report["evaluator_agreement_swapped"]:.4f}.')

  def report(self, networks, state, context) -> dict:
    """Reconstruction x -> G(E_z(x), E_y(x)) and label swap G(E_z(x), y') of
    `context.num_samples` test images; reconstructions.png, label_swap.png."""
    originals, labels = context.test_images(context.num_samples)
    rebuilt, codes = self.reconstruct(context, networks, state, originals)
    # Each image swapped to the class after its own: every target differs from the true label.
    targets = ((labels + 1) % self.family.num_classes).astype(np.int32)
    swapped, _ = self.reconstruct(context, networks, state, originals, targets)
    report = {
        'model': 'ecgan', 'dataset': self.family.config.dataset, 'num_test_images': len(originals),
        'reconstruction_mse': float(np.mean((rebuilt - originals) ** 2)),
        'label_encoder_accuracy': float(np.mean(codes['label'] == labels)),
        'evaluator_accuracy_reconstructed': context.evaluator_accuracy(rebuilt, labels),
        'evaluator_accuracy_original': context.evaluator_accuracy(originals, labels),
        'evaluator_agreement_swapped': context.evaluator_accuracy(swapped, targets),
    }
    shown = originals[:10]
    context.save_grid('reconstructions.png', np.concatenate([shown, rebuilt[:10]]), columns=10,
                      title='test images (top) and G(E_z(x), E_y(x))')
    rows = min(8, len(shown))
    every_class = np.tile(np.arange(self.family.num_classes, dtype=np.int32), rows)
    swap_grid, _ = self.reconstruct(
        context, networks, state, np.repeat(shown[:rows], self.family.num_classes, 0),
        every_class)
    swaps = swap_grid.reshape((rows, self.family.num_classes) + data.IMAGE_SHAPE)
    table = np.concatenate([shown[:rows, None], swaps], axis=1)
    context.save_grid('label_swap.png', table.reshape((-1,) + data.IMAGE_SHAPE),
                      columns=self.family.num_classes + 1,
                      title='each row: a test image, then G(E_z(x), y) for y = 0, 1, ...')
    return report

  def encode(self, context, networks, state, images):
    """{'z', 'label'} of float `images` by the encoders."""
    variables = {'params': state.auxiliary.params}
    out = context.batched(jax.jit(lambda x: networks.auxiliary.apply(variables, x, train=False)),
                          images)
    return {'z': out['z'], 'label': out['label_logits'].argmax(-1).astype(np.int32)}

  def reconstruct(self, context, networks, state, images, labels=None):
    """(G(E_z(x), y), the codes) with y = E_y(x), or the given `labels` (label swap)."""
    codes = self.encode(context, networks, state, images)
    generator = context.generator()
    labels = codes['label'] if labels is None else labels
    inputs = lambda z, y: self.family.generator_input({'z': z, 'label': y}, None)
    return context.batched(jax.jit(lambda z, y: generator(inputs(z, y))), codes['z'],
                           labels), codes


class ECGAN(cgan.CGAN):
  Spec = ECGANSpec

  def networks(self, axis_name=None) -> gan.Networks:
    networks = super().networks(axis_name)
    _, template = gan.BACKBONES[self.backbone].build(self.config)
    # Plain networks: D's dropout, spectral normalisation and batch norm are not theirs.
    plain = functools.partial(gan.BACKBONES[self.backbone].without_statistics(template).clone,
                              dropout_rate=0.0)
    encoders = conditional.Encoders(plain(outputs=self.latent_dim),
                                    plain(outputs=self.num_classes))
    return networks._replace(auxiliary=encoders)

  def update_auxiliary(self, module, state, fake, draws, mean):
    def loss_fn(params):
      out = module.apply({'params': params}, jax.lax.stop_gradient(fake), train=True)
      terms = {'encoder_z_loss': jnp.mean((out['z'] - draws['z']) ** 2),
               'encoder_label_loss': losses.cross_entropy(out['label_logits'], draws['label'])}
      return terms['encoder_z_loss'] + terms['encoder_label_loss'], terms

    (_, terms), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    return state.apply_gradients(grads=mean(grads)), terms
