"""Population training: each member of seeds trained side by side ends as its seed trained alone."""
import jax
import ml_collections
import numpy as np
import pytest

from conftest import tiny_config
from gans.core import families
from gans.core.errors import UsageError
from gans.run import runs
from gans.training import loop, population

SEEDS = (0, 3)


def ccgan_section():
  section = ml_collections.ConfigDict(families.spec('ccgan').section_defaults())
  section.num_labelled, section.labelled_batch_size = 20, 8  # of 64 train images
  return section


@pytest.mark.parametrize('formulation', population.FORMULATIONS)
@pytest.mark.parametrize('model, overrides', [
    ('mlp', {'ema_decay': 0.5}),  # dropout in D, an EMA of G
    ('dcgan', {}),  # BatchNorm in G: statistics per member
    ('ccgan', {'conditional': ccgan_section()}),  # a labelled subset per member, by its own key
])
def test_each_member_ends_as_its_seed_trained_alone(tmp_path, data_dir, model, overrides,
                                                    formulation):
  config = lambda seed: tiny_config(model, data_dir, seed=seed, num_steps=6, steps_per_call=2,
                                    checkpoint_every_steps=6, **overrides)
  states, timing = population.train_population(config(0), SEEDS, 6, formulation)
  assert timing['members'] == 2 and timing['steps'] == 6 and timing['seconds'] > 0
  assert timing['formulation'] == formulation
  for index, seed in enumerate(SEEDS):
    loop.train(config(seed), str(tmp_path / str(seed)))
    _, _, _, alone = runs.load(str(tmp_path / str(seed)))  # the checkpoint as a GANState
    assert int(alone.step) == 6
    together = population.member(states, index)
    leaves_alone, leaves_together = jax.tree.leaves(alone), jax.tree.leaves(together)
    assert len(leaves_alone) == len(leaves_together)
    for a, b in zip(leaves_alone, leaves_together):
      np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-5, atol=1e-6)
  first, second = (jax.tree.leaves(population.member(states, i).generator.params) for i in (0, 1))
  assert not all(np.array_equal(a, b) for a, b in zip(first, second))  # the seeds differ


@pytest.mark.parametrize('model, seeds, message', [
    ('mlp', (1, 1), 'distinct seeds'),
    ('mlp', (), 'distinct seeds'),
    ('ppca', (0, 1), 'fitted in closed form'),
])
def test_a_population_refuses_what_it_cannot_train(data_dir, model, seeds, message):
  with pytest.raises(UsageError, match=message):
    population.train_population(tiny_config(model, data_dir), seeds, 2)


def test_an_unknown_formulation_is_refused(data_dir):
  with pytest.raises(UsageError, match="unknown population formulation 'pmap'; allowed: vmap"):
    population.train_population(tiny_config('mlp', data_dir), (0, 1), 2, 'pmap')

