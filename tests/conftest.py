"""8 CPU devices and the entry points' XLA:CPU kernels before any JAX work, a compilation cache,
tiny IDX datasets, and tiny configs for fast tests."""
import atexit
import gzip
import os
import shutil
import tempfile

import jax

from gans.run import xla_cpu

jax.config.update('jax_num_cpu_devices', 8)
# The tests compile far more than they run, and XLA:CPU compiles faster at LLVM's optimisation
# level 0: test_models' shape tests take 0.72 of their time at the default level, as a whole
# process (median of 3 alternated pairs). XLA builds the same programs; the machine code may
# round some sums differently in the last bits (the shipped evaluators, trained at the default
# level, still score their recorded test accuracy exactly). Set before JAX starts its CPU
# backend; the tests' subprocesses inherit it.
COMPILE_FAST = '--xla_backend_optimization_level=0'
os.environ['XLA_FLAGS'] = f"{os.environ.get('XLA_FLAGS', '')} {COMPILE_FAST}".strip()
xla_cpu.choose_kernels()
# Programs compiled again unchanged (a run and its resumption, one tiny config in several tests)
# come from this session's cache: compiling, not running, is most of a tiny run's time. The
# variables hand the cache to the subprocesses the tests start (train.py killed and run again,
# evaluate.py called with several seeds), which read JAX's settings from the environment.
COMPILATION_CACHE = tempfile.mkdtemp(prefix='gans-tests-xla-')
atexit.register(shutil.rmtree, COMPILATION_CACHE, ignore_errors=True)
CACHE_SETTINGS = {'jax_compilation_cache_dir': COMPILATION_CACHE,
                  'jax_persistent_cache_min_compile_time_secs': 0,
                  'jax_persistent_cache_min_entry_size_bytes': 0}
for name, value in CACHE_SETTINGS.items():
  jax.config.update(name, value)
  os.environ[name.upper()] = str(value)

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from gans.configs import default  # noqa: E402
from gans.evaluation import classifier  # noqa: E402
from gans.run import checkpoints  # noqa: E402
from gans.run import config as config_lib  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_idx(path, array):
  """Writes uint8 `array` as an IDX file: magic 0x0000080N, then N big-endian uint32 dims."""
  array = np.asarray(array, np.uint8)
  header = bytes([0, 0, 8, array.ndim]) + b''.join(d.to_bytes(4, 'big') for d in array.shape)
  opener = gzip.open if path.endswith('.gz') else open
  with opener(path, 'wb') as f:
    f.write(header + array.tobytes())


def write_mnist_like(folder, num_train=64, num_test=16, num_classes=10, stems=('train', 't10k'),
                     label_offset=0, seed=0):
  rng = np.random.default_rng(seed)
  os.makedirs(folder, exist_ok=True)
  for stem, n in zip(stems, (num_train, num_test)):
    write_idx(os.path.join(folder, f'{stem}-images-idx3-ubyte.gz'),
              rng.integers(0, 256, (n, 28, 28)))
    write_idx(os.path.join(folder, f'{stem}-labels-idx1-ubyte.gz'),
              np.arange(n) % num_classes + label_offset)


@pytest.fixture(autouse=True)
def no_shipped_evaluators(monkeypatch, tmp_path_factory):
  """Tests score with evaluators trained on their own tiny data (`train_evaluator`), never with
  the shipped MNIST and Fashion-MNIST ones, which test_evaluation checks by themselves."""
  monkeypatch.setattr(classifier, 'SHIPPED', str(tmp_path_factory.mktemp('no-shipped')))


def train_evaluator(data_dir, folder, dataset='mnist'):
  """A tiny evaluator of `dataset` trained on the test's own data into `folder`; returns folder."""
  classifier.train_and_save(dataset, data_dir, folder)
  return folder


@pytest.fixture
def data_dir(tmp_path):
  """A GANS_DATA_DIR with a 64-image 'mnist' made by the test."""
  root = str(tmp_path / 'data')
  write_mnist_like(os.path.join(root, 'mnist'))
  return root


def tiny_config(model='mlp', data_dir=None, **overrides):
  """Small nets and batches so a step compiles and runs in well under a second."""
  config = default.get_config()
  config.model = model
  config.data_dir = data_dir
  config.batch_size = 16
  config.num_steps = 8
  config.log_every_steps = 2
  config.checkpoint_every_steps = 4
  config.num_sample_images = 8
  config.parallel = 'jit'
  config.latent_dim = 8
  config.mlp.generator_widths = (32,)
  config.mlp.discriminator_widths = (32,)
  config.dcgan.generator_features = (8, 8, 4)
  config.dcgan.discriminator_features = (4, 8)
  for key, value in overrides.items():
    config[key] = value
  return config_lib.resolve(config)


def final_state(workdir):
  """The newest checkpoint's (step, state tree) as numpy."""
  return checkpoints.read_latest_state(workdir)


def assert_resumes_bitwise(tmp_path, make_config):
  """Trains make_config(...) to step 8 in one go, and to step 4 then 8 in another workdir (calls
  of 2 fused steps: one program to compile, most of the time of a tiny run; calls cut short at a
  resume are tested on the MLP in test_trainer); asserts bitwise-equal final states and returns
  one of them.
  `make_config(**overrides)` builds the run's resolved config."""
  from gans.training import loop  # the top layer: only for the tests that train
  whole = make_config(steps_per_call=2)
  loop.train(whole, str(tmp_path / 'whole'))
  loop.train(make_config(steps_per_call=2, num_steps=4), str(tmp_path / 'parts'))
  loop.train(whole, str(tmp_path / 'parts'))
  step_a, a = final_state(tmp_path / 'whole')
  step_b, b = final_state(tmp_path / 'parts')
  assert step_a == step_b == 8
  assert_bitwise_equal(a, b)
  return a


def assert_bitwise_equal(a, b):
  leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
  assert len(leaves_a) == len(leaves_b)
  for x, y in zip(leaves_a, leaves_b):
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
