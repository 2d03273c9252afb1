"""The package's layers: each imports only those below it, and no module imports itself back.

core (pure JAX, no file I/O) <- configs <- run (config, run format, checkpoints, writers,
pictures, data files) <- evaluation <- training <- tools, experiments, benchmarks (the programs:
what users run, the experiments of the original works, the developers' benchmarks) <- train.py,
evaluate.py. gans.configs holds the config files, which every layer above the core may read; a
family's config file takes its section's defaults from the family's own spec.
"""
import ast
import os

from conftest import REPO

LAYERS = {'gans.core': 0, 'gans.configs': 1, 'gans.run': 2, 'gans.evaluation': 3,
          'gans.training': 4, 'gans.tools': 5, 'gans.experiments': 5, 'gans.benchmarks': 5,
          'train': 6, 'evaluate': 6}
FILE_IO = ('open(', 'os.path', 'os.makedirs', 'gzip', 'shutil', 'orbax')


def module_files():
  """{module name: path} of the package and the entry scripts."""
  files = {'train': os.path.join(REPO, 'train.py'), 'evaluate': os.path.join(REPO, 'evaluate.py')}
  for folder, _, names in os.walk(os.path.join(REPO, 'gans')):
    for name in names:
      if name.endswith('.py'):
        path = os.path.join(folder, name)
        module = os.path.relpath(path, REPO)[:-3].replace(os.sep, '.')
        files[module.removesuffix('.__init__')] = path
  del files['gans']  # the package's empty __init__
  return files


def imports_of(path, modules):
  """The package modules `path` imports (anywhere in it, function bodies included)."""
  found = set()
  for node in ast.walk(ast.parse(open(path).read())):
    if isinstance(node, ast.Import):
      found.update(alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom) and node.module:
      for alias in node.names:
        name = f'{node.module}.{alias.name}'
        found.add(name if name in modules else node.module)
  return {name for name in found if name in modules}


def layer_of(module):
  for prefix, rank in LAYERS.items():
    if module == prefix or module.startswith(prefix + '.'):
      return rank
  raise AssertionError(f'{module} belongs to no layer; add it to LAYERS')


def graph():
  files = module_files()
  return {module: imports_of(path, files) for module, path in files.items()}


def test_every_import_goes_down_or_across_never_up():
  upward = [f'{module} -> {target}' for module, targets in graph().items() for target in targets
            if layer_of(target) > layer_of(module)]
  assert not upward, upward


def test_no_import_cycles():
  edges = graph()
  state = {}  # module -> 'open' while on the DFS path, 'done' after

  def visit(module, path):
    state[module] = 'open'
    for target in sorted(edges[module]):
      if state.get(target) == 'open':
        raise AssertionError('import cycle: ' + ' -> '.join(path + [module, target]))
      if target not in state:
        visit(target, path + [module])
    state[module] = 'done'

  for module in sorted(edges):
    if module not in state:
      visit(module, [])


def test_the_core_does_no_file_io():
  files = module_files()
  offenders = [f'{module}: {token}' for module, path in files.items()
               if layer_of(module) == LAYERS['gans.core']
               for token in FILE_IO if token in open(path).read()]
  assert not offenders, offenders


def test_the_checker_sees_an_upward_import_and_a_cycle():
  # the checks above could pass vacuously if the graph were empty or mis-resolved
  edges = graph()
  assert 'gans.core.parallel' in edges['gans.training.loop']
  assert layer_of('gans.benchmarks.step') > layer_of('gans.training.loop')
  assert all(layer_of(target) <= layer_of('gans.run.runs') for target in edges['gans.run.runs'])
