"""A family is one file in fact: a family defined here, which no file of the package names, is
registered and then configured, validated, trained, checkpointed, resumed, evaluated and reported
by the shared layers, which learn all they need from its class."""
import json
import os

import flax.linen as nn
import ml_collections
import numpy as np
import pytest

from conftest import assert_resumes_bitwise, tiny_config, train_evaluator, write_mnist_like
from gans.configs import default
from gans.core import families
from gans.core.errors import UsageError
from gans.core.families import gan
from gans.evaluation import workdir as workdir_lib
from gans.tools import report
from gans.training import loop


class Scaled(nn.Module):
  """The backbone's generator with its output scaled: images in [-scale, scale]."""
  inner: nn.Module
  scale: float

  @nn.compact
  def __call__(self, z, *, train):
    return self.scale * self.inner(z, train=train)


class ToySpec(gan.GANSpec):
  """Its section, checks, title, grid epochs and report: what the shared layers ask of it."""
  section = 'toy'
  backbone_in_section = True  # config.toy.backbone
  published_grid_epochs = {'toy': (1,)}
  report_stem = 'eval_toy'
  report_figures = (('toy.png', 'toy samples'),)
  report_table = {'title': 'Toy GANs: their reach', 'intro': 'How far the samples reach.',
                  'columns': [('scale', 'scale', None), ('reach', 'reach', 2),
                              ('not reported', 'absent.field', 2)],
                  'footer': 'Scale {scale} here.'}

  @classmethod
  def section_defaults(cls):
    return {'backbone': 'mlp', 'scale': 0.5}

  @classmethod
  def check_config(cls, config):
    super().check_config(config)
    if not 0 < config['toy']['scale'] <= 1:
      raise UsageError(f'toy.scale must be in (0, 1], got {config["toy"]["scale"]!r}')

  @classmethod
  def title(cls, config):
    return f'Toy GAN (scale {config["toy"]["scale"]})'

  def report(self, networks, state, context):
    """How far the samples reach, against the scale; a grid of them."""
    del networks, state
    images, _ = context.sample()
    context.save_grid('toy.png', images[:10], columns=10, title='toy samples')
    reach = float(abs(images.astype(float) / 127.5 - 1).max())
    return {'reach': reach, 'scale': self.family.config.toy.scale}

  @classmethod
  def describe_report(cls, report):
    return f'its samples reach {report["reach"]:.2f} of the scale {report["scale"]}.'


class Toy(gan.GAN):
  """The unconditional GAN whose generator draws in [-scale, scale], with a section of its own."""
  Spec = ToySpec

  def networks(self, axis_name=None):
    networks = super().networks(axis_name)
    return networks._replace(generator=Scaled(networks.generator, self.config.toy.scale))


@pytest.fixture
def toy(monkeypatch):
  monkeypatch.setitem(families.FAMILIES, 'toy', Toy)


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
  root = str(tmp_path_factory.mktemp('data'))
  write_mnist_like(os.path.join(root, 'mnist'), num_train=256, num_test=128)
  return root


def toy_config(data_dir, scale=0.5, **overrides):
  config = default.add_family_section(default.get_config(), ToySpec)
  config.toy.scale = scale
  return tiny_config('toy', data_dir, toy=config.toy, **overrides)


def test_the_registry_gives_the_family_its_section_checks_and_identity(toy, data_dir):
  # A config without the section (`--model=toy` on default.py) gets the family's defaults.
  assert tiny_config('toy', data_dir).toy.to_dict() == {'backbone': 'mlp', 'scale': 0.5}
  assert 'toy' in families.models()
  with pytest.raises(UsageError, match=r'toy.scale must be in \(0, 1\], got 2'):
    toy_config(data_dir, scale=2.0)
  with pytest.raises(UsageError, match="unknown toy.backbone 'resnet'"):
    tiny_config('toy', data_dir, toy=ml_collections.ConfigDict({'backbone': 'resnet'}))
  with pytest.raises(UsageError, match="toy.scal: the toy section has no such field; it has "
                                       "backbone, scale"):
    tiny_config('toy', data_dir, toy=ml_collections.ConfigDict({'scal': 0.5}))
  with pytest.raises(TypeError, match='subclass of gans.core.families.gan.GAN'):
    families.register('not_a_family', dict)


def test_a_family_no_file_names_trains_resumes_evaluates_and_is_reported(toy, data_dir,
                                                                        tmp_path):
  final = assert_resumes_bitwise(tmp_path, lambda **overrides: toy_config(data_dir, **overrides))
  assert 'inner' in final['state']['generator']['params']  # the family's own generator
  workdir = str(tmp_path / 'whole')
  with pytest.raises(UsageError, match="holds a run with toy="):  # its section is its identity
    loop.train(toy_config(data_dir, scale=0.25, num_steps=12), workdir)

  classifiers = train_evaluator(data_dir, str(tmp_path / 'classifiers'))
  reports = workdir_lib.evaluate_workdir(workdir, num_samples=100, data_dir=data_dir,
                                         classifier_dir=classifiers)
  assert reports['eval']['checkpoint'] == {'step': 8, 'generator': 'G'}
  # its own report, computed in its class from what the evaluation layer hands it
  assert reports['eval_toy']['scale'] == 0.5 and 0 < reports['eval_toy']['reach'] <= 0.51
  assert json.load(open(os.path.join(workdir, 'eval_toy.json')))['reach'] == reports['eval_toy'][
      'reach']
  assert os.path.getsize(os.path.join(workdir, 'toy.png')) > 0
  histogram = os.path.join(workdir, 'eval_class_histogram.png')
  assert os.path.getsize(histogram) > 0

  exported, _ = workdir_lib.sampling.export_samples(workdir, 100, str(tmp_path / 's.npz'), 0,
                                                    False)
  pixels = np.load(exported)['images']
  assert pixels.max() <= np.ceil((0.5 + 1) / 2 * 255)  # drawn in [-0.5, 0.5]: the family's G

  with open(os.path.join(workdir, 'command.txt'), 'w') as f:
    f.write('python train.py --model=toy\n')
  out = str(tmp_path / 'results')
  report.collect_run(workdir, out)
  [run] = report.collected_runs(out)
  report.write_report([run], [], [], 'a test machine', out)
  report.write_readme([run], 'a test machine', out)
  readme = open(os.path.join(out, 'README.md')).read()
  assert ('## Toy GANs: their reach\n\nHow far the samples reach.\n\n| run | scale | reach | not '
          'reported |\n|---|---|---|---|\n| [whole](#whole) | 0.5 | '
          f'{reports["eval_toy"]["reach"]:.2f} | – |\n\nScale 0.5 here.') in readme
  assert '![toy samples](whole/toy.png)' in readme
  page = open(os.path.join(out, 'REPORT.md')).read()
  assert 'Toy GAN (scale 0.5)' in page
  assert f'its samples reach {reports["eval_toy"]["reach"]:.2f} of the scale 0.5.' in page
  assert json.load(open(os.path.join(out, 'whole', 'run.json')))['config']['toy']['scale'] == 0.5
