"""GAN evaluation metrics on an evaluator classifier's features and class probabilities.

Numpy arrays in, python floats and numpy arrays out. Pairwise work (distances, kernels) runs as
jitted float32 JAX on chunks of rows; the Fréchet distance and final sums run in numpy float64.
Bad input raises ValueError naming the bad value and what is allowed.
"""
import functools

import jax
import jax.numpy as jnp
import numpy as np

MIN_SAMPLES = 100  # below this the k-NN manifolds and covariances say little
# Query rows per pairwise chunk: a 256 × 10,000 float32 block stays in a CPU's caches far better
# than 1,024 rows, and the manifold metrics of 10,000 samples ran 2.2x faster for it on a 2-core
# CPU (results/performance.md).
QUERY_CHUNK = 256


def _float_rows(name, x, min_rows=1, dim=None):
  """`x` as a finite 2-D float array of at least `min_rows` rows (and `dim` columns if given)."""
  x = np.asarray(x)
  if x.ndim != 2 or not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
    raise ValueError(f'{name} must be a 2-D numeric array (samples, dims), got {x.dtype} {x.shape}')
  if x.shape[0] < min_rows:
    raise ValueError(f'{name} needs at least {min_rows} rows, got {x.shape[0]}')
  if dim is not None and x.shape[1] != dim:
    raise ValueError(f'{name} has {x.shape[1]} dims but the other set has {dim}; they must match')
  if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
    raise ValueError(f'{name} holds NaN or infinite values; all must be finite')
  return x


def _labels(name, labels, num_classes):
  labels = np.asarray(labels)
  if labels.ndim != 1 or labels.size == 0 or not np.issubdtype(labels.dtype, np.integer):
    raise ValueError(f'{name} must be a non-empty 1-D integer array, got {labels.dtype} '
                     f'{labels.shape}')
  if labels.min() < 0 or labels.max() >= num_classes:
    raise ValueError(f'{name} must lie in [0, {num_classes}), got values in '
                     f'[{labels.min()}, {labels.max()}]')
  return labels.astype(np.int64)


def _check_num_classes(num_classes):
  if not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
    raise ValueError(f'num_classes must be a positive integer, got {num_classes!r}')


# Pairwise distances. Every set-to-set question below (k-th nearest neighbour, ball membership) is
# one jitted function of a chunk of query rows against all reference rows, so the
# (queries, references) matrix exists only one chunk at a time.


def _squared_distances(queries, references):
  """||q||² + ||r||² − 2 q·r, one matmul; HIGHEST keeps GPUs/TPUs from using bf16/TF32 there."""
  cross = jnp.dot(queries, references.T, precision=jax.lax.Precision.HIGHEST)
  norms_q = jnp.sum(queries ** 2, axis=1, keepdims=True)
  norms_r = jnp.sum(references ** 2, axis=1)
  return jnp.maximum(norms_q + norms_r - 2.0 * cross, 0.0)


@functools.partial(jax.jit, static_argnames=('k', 'exclude_self'))
def _kth_nearest_chunk(queries, references, first_row, *, k, exclude_self):
  """Squared distance from each query to its k-th nearest reference row.

  With `exclude_self`, query i of the chunk is reference row first_row + i and never its own
  neighbour (by index, so duplicates of a point still count as neighbours at distance 0).
  """
  d2 = _squared_distances(queries, references)
  if exclude_self:
    rows = first_row + jnp.arange(queries.shape[0])
    d2 = jnp.where(rows[:, None] == jnp.arange(references.shape[0])[None, :], jnp.inf, d2)
  return _kth_smallest(d2, k)


def _kth_smallest(rows, k):
  """The k-th smallest entry of each row, counting repeated values, in one pass over the rows: a
  reduction whose carry is the row's k smallest so far, sorted. Two sorted k-lists a, b merge
  into c with c_m = min over i + j = m of max(a_i, b_j) (a_0 = b_0 = −inf): the m-th smallest of
  the union takes i entries from a and j from b. XLA:CPU runs top_k as a sort, about 70x slower
  here, and k passes of a masked min about 3x slower (results/performance.md)."""
  def merge(a, b):
    pick = lambda items, i: None if i == 0 else items[i - 1]  # None stands for −inf
    def larger(x, y):
      return y if x is None else x if y is None else jnp.maximum(x, y)
    smallest = []
    for m in range(1, k + 1):
      candidates = [larger(pick(a, i), pick(b, m - i)) for i in range(m + 1)]
      smallest.append(functools.reduce(jnp.minimum, candidates))
    return tuple(smallest)
  inf = jnp.full_like(rows, jnp.inf)
  start = tuple(jnp.array(jnp.inf, rows.dtype) for _ in range(k))
  return jax.lax.reduce((rows,) + (inf,) * (k - 1), start, merge, (1,))[k - 1]


@jax.jit
def _balls_and_nearest_chunk(queries, centres, first_row, squared_radii):
  """For each query: in how many of the balls B(centres[i], radii[r, i]) (closed) it lies, for
  each radius set r of squared_radii (R, centres), and its squared distance to the nearest
  centre. One distance matrix answers every ball question one set asks of the other."""
  del first_row  # membership does not depend on where the chunk starts
  d2 = _squared_distances(queries, centres)
  counts = jnp.sum(d2[:, None, :] <= squared_radii[None, :, :], axis=2)
  return counts, jnp.min(d2, axis=1)


@jax.jit
def _centred(rows, centre):
  """float32 rows − centre, made on the device: a uint8 train set is handed over at a quarter of
  its float32 size, and no float32 copy of it is made on the host."""
  return rows.astype(jnp.float32) - centre


def _over_query_chunks(chunk_fn, queries, references, *args, batch_size, **kwargs):
  """chunk_fn applied to `batch_size`-row chunks of queries (last one padded: one compile); its
  outputs (an array or a tuple of arrays, one row per query) concatenated over the chunks.

  Both sets are shifted by the references' mean first: distances do not change, but the norms
  in the ||q||² + ||r||² − 2 q·r expansion shrink, so float32 loses fewer digits.
  """
  if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
    raise ValueError(f'batch_size must be a positive integer, got {batch_size!r}')
  centre = references.mean(axis=0, dtype=np.float64).astype(np.float32)
  references = _centred(references, centre)
  num = queries.shape[0]
  batch_size = min(batch_size, num)
  padded = np.zeros((-(-num // batch_size) * batch_size, queries.shape[1]), np.float32)
  np.subtract(queries, centre, out=padded[:num], dtype=np.float32)
  outputs = [chunk_fn(padded[start:start + batch_size], references, start, *args, **kwargs)
             for start in range(0, num, batch_size)]
  return jax.tree.map(lambda *chunks: np.concatenate([np.asarray(c) for c in chunks])[:num],
                      *outputs)


def _kth_nearest_squared(queries, references, k, exclude_self=False, batch_size=QUERY_CHUNK):
  return _over_query_chunks(_kth_nearest_chunk, queries, references, batch_size=batch_size, k=k,
                            exclude_self=exclude_self)


def _balls_and_nearest(queries, centres, squared_radii, batch_size=QUERY_CHUNK):
  return _over_query_chunks(_balls_and_nearest_chunk, queries, centres,
                            jnp.asarray(squared_radii, jnp.float32), batch_size=batch_size)


def _manifold_sets(real, fake, k):
  """Validated (real, fake) for the k-NN manifold metrics: k-th neighbours need k + 1 points."""
  if not isinstance(k, (int, np.integer)) or k < 1:
    raise ValueError(f'k must be a positive integer, got {k!r}')
  real = _float_rows('real', real, min_rows=k + 1)
  return real, _float_rows('fake', fake, min_rows=k + 1, dim=real.shape[1])


@jax.jit
def _nearest_chunk(queries, references, first_row):
  """Each query's nearest reference row: (squared distance, index)."""
  del first_row
  d2 = _squared_distances(queries, references)
  index = jnp.argmin(d2, axis=1)
  return jnp.take_along_axis(d2, index[:, None], axis=1)[:, 0], index


def nearest_neighbours(queries, references, batch_size=1024):
  """(Euclidean distance float32 (Q,), index (Q,)) of each query row's nearest reference row.

  For the memorisation check: generated samples much closer to their nearest training image
  than real test images are to theirs suggests copying; the indices show which image. Peak
  memory is one float32 (batch_size, len(references)) block: 1024 × 60,000 is 246 MB (the 1,000
  queries of an evaluation in one chunk, which ran faster than four of 256).
  """
  references = _float_rows('references', references)
  queries = _float_rows('queries', queries, dim=references.shape[1])
  squared, index = _over_query_chunks(_nearest_chunk, queries, references, batch_size=batch_size)
  return np.sqrt(squared), index


def nearest_neighbour_distances(queries, references, batch_size=1024):
  """The distances of nearest_neighbours."""
  return nearest_neighbours(queries, references, batch_size)[0]


def manifold_radii(real, k):
  """Squared distance of each real point to its k-th nearest other real point: the real side of
  precision_recall (k = 3) and density_coverage (k = 5), which depends on the real set alone."""
  real = _float_rows('real', real, min_rows=k + 1)
  return _kth_nearest_squared(real, real, k, exclude_self=True)


def manifold_metrics(real, fake, k_pr=3, k_dc=5, real_radii_pr=None, real_radii_dc=None):
  """Precision and recall (Kynkäänniemi et al. 2019, k = k_pr) and density and coverage (Naeem
  et al. 2020, k = k_dc) of `fake` against `real`, from three passes over the pairs: fake-fake
  (the fake radii), fake-real (precision, density) and real-fake (recall, coverage).

  A set's k-manifold is the union of closed balls around its points, each with radius the
  distance to the point's k-th nearest neighbour in its own set.
  - precision: the fraction of fake points inside the real k_pr-manifold (quality);
  - recall: the fraction of real points inside the fake k_pr-manifold (diversity);
  - density = (1 / k_dc M) Σ_fake Σ_real 1[fake in B(real, r_real)] with the k_dc radii: ~1 when
    fakes follow the real distribution, above 1 where they crowd into dense regions;
  - coverage: the fraction of real k_dc-balls holding at least one fake point, in [0, 1].
  `real_radii_pr`, `real_radii_dc`: manifold_radii(real, k), when already known (a cached real
  reference). Returns a dict of the four floats.
  """
  real, fake = _manifold_sets(real, fake, max(k_pr, k_dc))
  real_radii_pr = manifold_radii(real, k_pr) if real_radii_pr is None else real_radii_pr
  if real_radii_dc is None:
    real_radii_dc = real_radii_pr if k_dc == k_pr else manifold_radii(real, k_dc)
  fake_radii = _kth_nearest_squared(fake, fake, k_pr, exclude_self=True)
  fake_in_real, _ = _balls_and_nearest(fake, real, np.stack([real_radii_pr, real_radii_dc]))
  real_in_fake, nearest_fake = _balls_and_nearest(real, fake, fake_radii[None, :])
  return {'precision': float(np.mean(fake_in_real[:, 0] > 0)),
          'recall': float(np.mean(real_in_fake[:, 0] > 0)),
          'density': float(fake_in_real[:, 1].sum() / (k_dc * fake.shape[0])),
          'coverage': float(np.mean(nearest_fake <= real_radii_dc))}


def precision_recall(real, fake, k=3, real_radii=None):
  """(precision, recall) of manifold_metrics with k_pr = k."""
  result = manifold_metrics(real, fake, k, k, real_radii, real_radii)
  return result['precision'], result['recall']


def density_coverage(real, fake, k=5, real_radii=None):
  """(density, coverage) of manifold_metrics with k_dc = k."""
  result = manifold_metrics(real, fake, k, k, real_radii, real_radii)
  return result['density'], result['coverage']


# Distribution distances.


def feature_statistics(features):
  """(mean, covariance) in float64 of (N, D) features, N >= 2: the inputs of frechet_distance."""
  features = _float_rows('features', features, min_rows=2).astype(np.float64)
  return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mean1, cov1, mean2, cov2):
  """||m1 − m2||² + tr(C1) + tr(C2) − 2 tr((C1 C2)^½) between Gaussians, in float64, >= 0.

  tr((C1 C2)^½) is taken as Σ sqrt(eig(C1^½ C2 C1^½)): the same eigenvalues, but of a symmetric
  PSD matrix, so eigh is stable where sqrtm of the non-symmetric C1 C2 can go complex or
  inaccurate for near-singular covariances (few samples, dead ReLU features).
  """
  mean1, mean2 = (np.asarray(m, np.float64) for m in (mean1, mean2))
  cov1, cov2 = (np.asarray(c, np.float64) for c in (cov1, cov2))
  if mean1.ndim != 1 or mean1.shape != mean2.shape:
    raise ValueError(f'means must be 1-D of one length, got shapes {mean1.shape}, {mean2.shape}')
  dim = mean1.shape[0]
  for name, cov in (('cov1', cov1), ('cov2', cov2)):
    if cov.shape != (dim, dim):
      raise ValueError(f'{name} must have shape {(dim, dim)} to match the means, got {cov.shape}')
  eigenvalues, eigenvectors = np.linalg.eigh(cov1)
  sqrt_cov1 = (eigenvectors * np.sqrt(np.maximum(eigenvalues, 0.0))) @ eigenvectors.T
  product = sqrt_cov1 @ cov2 @ sqrt_cov1
  product_eigenvalues = np.linalg.eigvalsh((product + product.T) / 2)
  trace_sqrt = np.sum(np.sqrt(np.maximum(product_eigenvalues, 0.0)))
  distance = np.sum((mean1 - mean2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2.0 * trace_sqrt
  return float(max(distance, 0.0))


def _mmd_row_sums(a, b):
  """Row sums of the cubic-kernel matrices K_aa, K_bb (diagonals excluded) and K_ab."""
  dim = a.shape[1]
  kernel = lambda x, y: (jnp.dot(x, y.T, precision=jax.lax.Precision.HIGHEST) / dim + 1.0) ** 3
  off_diagonal = ~jnp.eye(a.shape[0], dtype=bool)
  return (jnp.sum(jnp.where(off_diagonal, kernel(a, a), 0.0), axis=1),
          jnp.sum(jnp.where(off_diagonal, kernel(b, b), 0.0), axis=1),
          jnp.sum(kernel(a, b), axis=1))


@jax.jit
def _mmd_row_sums_of_subsets(a, b, subsets_a, subsets_b):
  """_mmd_row_sums of every subset (rows of the index arrays), one subset at a time in one
  program: one dispatch instead of a gather and a call per subset."""
  return jax.lax.map(lambda rows: _mmd_row_sums(a[rows[0]], b[rows[1]]), (subsets_a, subsets_b))


def kernel_inception_distance(features_a, features_b, num_subsets=100, subset_size=1000, seed=0):
  """(mean, std over subsets) of the unbiased MMD² with k(x, y) = (x·y / d + 1)³.

  Bińkowski et al. 2018. Each subset draws subset_size rows of each set without replacement,
  from np.random.default_rng(seed); subset_size is capped by the smaller set. Kernel row sums
  come back in float32 and are combined in float64, as MMD² is a small difference of large sums.
  The value is in the features' own units (no factor of 1,000), and the std is the spread of one
  subset's estimate, not the error of the mean.
  """
  if not isinstance(num_subsets, (int, np.integer)) or num_subsets < 1:
    raise ValueError(f'num_subsets must be a positive integer, got {num_subsets!r}')
  if not isinstance(subset_size, (int, np.integer)) or subset_size < 2:
    raise ValueError(f'subset_size must be an integer >= 2 (unbiased MMD² needs pairs), '
                     f'got {subset_size!r}')
  features_a = _float_rows('features_a', features_a, min_rows=2)
  features_b = _float_rows('features_b', features_b, min_rows=2, dim=features_a.shape[1])
  m = min(subset_size, features_a.shape[0], features_b.shape[0])
  rng = np.random.default_rng(seed)
  draws = [(rng.choice(len(features_a), m, replace=False),
            rng.choice(len(features_b), m, replace=False)) for _ in range(num_subsets)]
  subsets_a, subsets_b = (np.stack(indices) for indices in zip(*draws))
  aa, bb, ab = (np.asarray(sums, np.float64) for sums in _mmd_row_sums_of_subsets(
      features_a.astype(np.float32), features_b.astype(np.float32), subsets_a, subsets_b))
  mmds = (aa.sum(axis=1) + bb.sum(axis=1)) / (m * (m - 1)) - 2.0 * ab.sum(axis=1) / m ** 2
  return float(np.mean(mmds)), float(np.std(mmds))


# Class predictions.


def classifier_score(probs):
  """exp(E_x KL(p(y|x) || p(y))), p(y) the mean of the rows: the Inception Score of a LeNet.

  From 1 (every sample gets the same prediction) to num_classes (confident predictions spread
  evenly over all classes). Computed once over all rows, without the usual 10 splits.
  """
  probs = _float_rows('probs', probs).astype(np.float64)
  if probs.min() < 0 or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
    raise ValueError(f'probs rows must be distributions (>= 0, summing to 1), got values in '
                     f'[{probs.min():.3g}, {probs.max():.3g}] and row sums in '
                     f'[{probs.sum(axis=1).min():.3g}, {probs.sum(axis=1).max():.3g}]')
  marginal = probs.mean(axis=0)
  positive = probs > 0  # 0 log 0 = 0; p(y) > 0 wherever some p(y|x) > 0
  log_ratio = np.log(np.where(positive, probs, 1.0)) - np.log(np.where(positive, marginal, 1.0))
  return float(np.exp(np.mean(np.sum(probs * log_ratio, axis=1))))


def mode_coverage(predicted_labels, num_classes, min_fraction=0.1):
  """How evenly the samples' predicted classes spread over the classes: a mode-collapse check.

  Returns counts (num_classes,), num_covered, entropy and max_entropy = log(num_classes) in nats.
  A class counts as covered when it gets at least min_fraction of its uniform share, i.e.
  min_fraction × N / num_classes samples: with 0.1 a class must hold 1% of 10,000 samples out of
  10 classes, so classifier noise on a missing mode does not count it as present.
  """
  _check_num_classes(num_classes)
  if not 0 < min_fraction <= 1:
    raise ValueError(f'min_fraction must be in (0, 1], got {min_fraction!r}')
  labels = _labels('predicted_labels', predicted_labels, num_classes)
  counts = np.bincount(labels, minlength=num_classes)
  frequencies = counts[counts > 0] / labels.size
  return {
      'counts': counts,
      'num_covered': int(np.sum(counts >= min_fraction * labels.size / num_classes)),
      'entropy': float(-np.sum(frequencies * np.log(frequencies))),
      'max_entropy': float(np.log(num_classes)),
  }


def _pair_counts(row_name, rows, num_rows, column_name, columns, num_columns):
  """Validated integer (rows, columns) of one length, and the (num_rows, num_columns) counts of
  each (row, column) pair."""
  _check_num_classes(num_rows)
  _check_num_classes(num_columns)
  rows = _labels(row_name, rows, num_rows)
  columns = _labels(column_name, columns, num_columns)
  if rows.shape != columns.shape:
    raise ValueError(f'{row_name} and {column_name} must have one length, got {rows.size} and '
                     f'{columns.size}')
  counts = np.bincount(rows * num_columns + columns, minlength=num_rows * num_columns)
  return rows, columns, counts.reshape(num_rows, num_columns)


def conditional_accuracy(predicted_labels, target_labels, num_classes):
  """How often a class-conditional generator's samples are classified as the class asked for.

  Returns accuracy, per_class_accuracy (num_classes,) with NaN for classes never asked for, and
  confusion (num_classes, num_classes) counts with rows = target class, columns = predicted.
  """
  target, predicted, confusion = _pair_counts('target_labels', target_labels, num_classes,
                                              'predicted_labels', predicted_labels, num_classes)
  per_target = confusion.sum(axis=1)
  per_class = np.divide(np.diag(confusion), per_target, out=np.full(num_classes, np.nan),
                        where=per_target > 0)
  return {
      'accuracy': float(np.mean(predicted == target)),
      'per_class_accuracy': per_class,
      'confusion': confusion,
  }


def matched_accuracy(codes, predicted_labels, num_codes, num_classes):
  """How well an unsupervised code names classes: the accuracy of predicting each sample's
  class from its code through the best one-to-one matching of codes to classes.

  The matching maximises the number of samples whose (code, predicted class) pair it keeps
  (the Hungarian algorithm, scipy.optimize.linear_sum_assignment). With more codes than
  classes the unmatched codes' samples count as wrong, with fewer the unmatched classes can
  never be named. Returns accuracy, assignment (num_codes,) the class matched to each code or
  -1, per_code_accuracy (num_codes,) (NaN for a code no sample has) and counts
  (num_codes, num_classes) of (code, predicted class).
  """
  codes, predicted, counts = _pair_counts('codes', codes, num_codes, 'predicted_labels',
                                          predicted_labels, num_classes)
  import scipy.optimize  # here: half a second of start-up that no other metric needs
  rows, cols = scipy.optimize.linear_sum_assignment(counts, maximize=True)
  assignment = np.full(num_codes, -1)
  assignment[rows] = cols
  matched = np.where(assignment >= 0, counts[np.arange(num_codes), assignment], 0)
  per_code = counts.sum(axis=1)
  return {
      'accuracy': float(matched.sum() / codes.size),
      'assignment': assignment,
      'per_code_accuracy': np.divide(matched, per_code, out=np.full(num_codes, np.nan),
                                     where=per_code > 0),
      'counts': counts,
  }
