"""Each metric against an independent reference: closed forms, scipy, brute-force numpy, or
answers worked out by hand in the comments on tiny point sets."""
import itertools
import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.linalg
import scipy.stats

from conftest import REPO
from gans.core import metrics


def line(*xs):
  """Points on the real line as (N, 1) features."""
  return np.array(xs, np.float64)[:, None]


def brute_force_distances(a, b):
  return np.linalg.norm(a[:, None, :] - b[None, :, :], axis=2)


def test_feature_statistics_are_mean_and_sample_covariance():
  features = np.random.default_rng(0).normal(size=(50, 4)).astype(np.float32)
  mean, cov = metrics.feature_statistics(features)
  assert mean.dtype == cov.dtype == np.float64
  np.testing.assert_allclose(mean, np.mean(features.astype(np.float64), axis=0), rtol=1e-12)
  np.testing.assert_allclose(cov, np.cov(features.astype(np.float64).T), rtol=1e-12)


def test_frechet_distance_of_diagonal_gaussians_is_closed_form():
  # For commuting covariances (C1 C2)^½ = diag(σ1 σ2), so FD = ||Δμ||² + Σ (σ1 − σ2)².
  rng = np.random.default_rng(0)
  mean1, mean2 = rng.normal(size=6), rng.normal(size=6)
  std1, std2 = rng.uniform(0.1, 3, size=6), rng.uniform(0.1, 3, size=6)
  expected = np.sum((mean1 - mean2) ** 2) + np.sum((std1 - std2) ** 2)
  got = metrics.frechet_distance(mean1, np.diag(std1 ** 2), mean2, np.diag(std2 ** 2))
  np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_frechet_distance_matches_scipy_sqrtm_on_random_spd():
  rng = np.random.default_rng(1)
  dim = 16
  a, b = rng.normal(size=(dim, dim)), rng.normal(size=(dim, dim))
  cov1, cov2 = a @ a.T / dim + 0.1 * np.eye(dim), b @ b.T / dim + 0.1 * np.eye(dim)
  mean1, mean2 = rng.normal(size=dim), rng.normal(size=dim)
  expected = (np.sum((mean1 - mean2) ** 2) + np.trace(cov1) + np.trace(cov2)
              - 2 * np.trace(scipy.linalg.sqrtm(cov1 @ cov2)).real)
  np.testing.assert_allclose(metrics.frechet_distance(mean1, cov1, mean2, cov2), expected,
                             rtol=1e-9)


def test_frechet_distance_of_identical_statistics_is_zero_even_if_singular():
  # 20 samples in 50 dims: a rank-19 covariance, where sqrtm of C1 C2 is ill-conditioned.
  mean, cov = metrics.feature_statistics(np.random.default_rng(2).normal(size=(20, 50)))
  distance = metrics.frechet_distance(mean, cov, mean, cov)
  assert 0.0 <= distance < 1e-5 * np.trace(cov)


def brute_force_mmd(x, y):
  """Unbiased MMD² with the cubic kernel, by explicit loops."""
  m, n, dim = len(x), len(y), x.shape[1]
  k = lambda u, v: (np.dot(u, v) / dim + 1) ** 3
  xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
  yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
  xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
  return xx + yy - 2 * xy


def test_kid_on_whole_sets_matches_brute_force():
  rng = np.random.default_rng(3)
  x, y = rng.normal(size=(30, 5)), rng.normal(0.3, 1.2, size=(30, 5))
  mean, std = metrics.kernel_inception_distance(x, y, num_subsets=1, subset_size=30)
  np.testing.assert_allclose(mean, brute_force_mmd(x, y), rtol=1e-4)
  assert std == 0.0
  # subset_size is capped by the set size, so asking for more draws the same subsets.
  assert metrics.kernel_inception_distance(x, y, num_subsets=1) == (mean, std)


def test_kid_over_several_subsets_is_the_mean_and_std_of_each_subsets_mmd():
  rng = np.random.default_rng(9)
  x, y = rng.normal(size=(40, 4)), rng.normal(0.2, 1.1, size=(50, 4))
  mean, std = metrics.kernel_inception_distance(x, y, num_subsets=4, subset_size=12, seed=2)
  draws = np.random.default_rng(2)  # the same draws, in the same order: a's rows, then b's
  mmds = []
  for _ in range(4):
    rows_x, rows_y = draws.choice(40, 12, replace=False), draws.choice(50, 12, replace=False)
    mmds.append(brute_force_mmd(x[rows_x], y[rows_y]))
  np.testing.assert_allclose([mean, std], [np.mean(mmds), np.std(mmds)], rtol=1e-4, atol=1e-6)


def test_kid_is_near_zero_for_one_distribution_and_positive_for_a_shift():
  rng = np.random.default_rng(4)
  x, y = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
  same_mean, same_std = metrics.kernel_inception_distance(x, y, num_subsets=10, subset_size=200)
  shifted_mean, shifted_std = metrics.kernel_inception_distance(x, y + 0.5, num_subsets=10,
                                                                subset_size=200)
  assert abs(same_mean) < 3 * same_std
  assert shifted_mean > 10 * shifted_std and shifted_mean > 20 * abs(same_mean)
  again = metrics.kernel_inception_distance(x, y, num_subsets=10, subset_size=200)
  assert again == (same_mean, same_std)
  assert metrics.kernel_inception_distance(x, y, 10, 200, seed=1) != again


def test_precision_recall_on_a_line():
  # k=1. Real 0, 1, 3, 7, 20 have nearest-neighbour radii 1, 1, 2, 4, 13: the real manifold is
  # [-1, 1] ∪ [0, 2] ∪ [1, 5] ∪ [3, 11] ∪ [7, 33] = [-1, 33].
  # Fake 0.5, 4.5, 40, 50 have radii 4, 4, 10, 10: [-3.5, 4.5] ∪ [0.5, 8.5] ∪ [30, 50] ∪ [40, 60].
  # Precision: 0.5 and 4.5 lie in [-1, 33], 40 and 50 do not -> 2/4.
  # Recall: 0, 1, 3, 7 lie in [-3.5, 8.5], 20 in no fake ball -> 4/5.
  real, fake = line(0, 1, 3, 7, 20), line(0.5, 4.5, 40, 50)
  assert metrics.precision_recall(real, fake, k=1) == pytest.approx((0.5, 0.8))
  np.testing.assert_allclose(metrics.manifold_radii(real, 1), [1, 1, 4, 16, 169], rtol=1e-6)
  radii = metrics.manifold_radii(real, 1)  # known in advance (a cached real reference)
  assert metrics.precision_recall(real, fake, k=1, real_radii=radii) == pytest.approx((0.5, 0.8))


def test_density_coverage_on_a_line():
  # k=2. Real 0, 1, 3, 7, 8 have 2nd-nearest-neighbour radii 3, 2, 3, 4, 5: balls
  # [-3, 3], [-1, 3], [0, 6], [3, 11], [3, 13].
  # Fake -2.5 lies in ball 0 only, 12 in ball 4 only, 20 and 30 in none:
  # density = (1 + 1) / (k M) = 2 / (2 * 4) = 0.25; coverage: balls 0 and 4 of 5 hold a fake = 0.4.
  real, fake = line(0, 1, 3, 7, 8), line(-2.5, 12, 20, 30)
  assert metrics.density_coverage(real, fake, k=2) == pytest.approx((0.25, 0.4))
  radii = metrics.manifold_radii(real, 2)
  np.testing.assert_allclose(radii, [9, 4, 9, 16, 25], rtol=1e-6)  # squared
  assert metrics.density_coverage(real, fake, k=2, real_radii=radii) == pytest.approx((0.25, 0.4))


def brute_force_manifold_metrics(real, fake, k_pr, k_dc):
  """The four manifold metrics from the full distance matrices, as their papers define them."""
  def radii(points, k):
    d = brute_force_distances(points, points)
    np.fill_diagonal(d, np.inf)
    return np.sort(d, axis=1)[:, k - 1]
  fake_real = brute_force_distances(fake, real)  # (fake, real)
  in_real_pr = fake_real <= radii(real, k_pr)[None, :]
  in_real_dc = fake_real <= radii(real, k_dc)[None, :]
  in_fake_pr = fake_real <= radii(fake, k_pr)[:, None]
  return {'precision': in_real_pr.any(axis=1).mean(), 'recall': in_fake_pr.any(axis=0).mean(),
          'density': in_real_dc.sum() / (k_dc * len(fake)),
          'coverage': in_real_dc.any(axis=0).mean()}


@pytest.mark.parametrize('k_pr, k_dc', [(3, 5), (1, 2), (4, 4)])
def test_manifold_metrics_match_brute_force(k_pr, k_dc):
  rng = np.random.default_rng(10)
  real = rng.normal(size=(60, 5))
  fake = np.concatenate([rng.normal(size=(40, 5)), rng.normal(3.0, 1.0, size=(30, 5))])
  got = metrics.manifold_metrics(real, fake, k_pr, k_dc)
  expected = brute_force_manifold_metrics(real, fake, k_pr, k_dc)
  assert got == pytest.approx(expected)
  assert 0 < got['precision'] < 1 and 0 < got['coverage'] < 1  # neither trivially 0 nor 1
  known = metrics.manifold_metrics(real, fake, k_pr, k_dc, metrics.manifold_radii(real, k_pr),
                                   metrics.manifold_radii(real, k_dc))
  assert known == got


@pytest.mark.parametrize('batch_size', [1, 4, 7, 64])
@pytest.mark.parametrize('k', [1, 3, 5])
def test_kth_nearest_within_a_set_skips_only_the_point_itself_in_every_chunk(batch_size, k):
  x = np.random.default_rng(5).normal(size=(23, 6)) + 10.0
  x[11] = x[5]  # duplicates are each other's neighbours at distance 0
  distances = brute_force_distances(x, x)
  np.fill_diagonal(distances, np.inf)
  expected = np.sort(distances, axis=1)[:, k - 1]
  got = metrics._kth_nearest_squared(x, x, k, exclude_self=True, batch_size=batch_size)
  np.testing.assert_allclose(np.sqrt(got), expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize('batch_size', [1, 5, 37, 1024])
def test_nearest_neighbours_match_brute_force(batch_size):
  rng = np.random.default_rng(6)
  references = rng.uniform(size=(101, 50)) + 3.0
  queries = rng.uniform(size=(37, 50)) + 3.0
  queries[4] = references[17]  # a memorised sample
  got, index = metrics.nearest_neighbours(queries, references, batch_size=batch_size)
  distances = brute_force_distances(queries, references)
  np.testing.assert_allclose(got, distances.min(axis=1), rtol=1e-4, atol=1e-3)
  np.testing.assert_array_equal(index, distances.argmin(axis=1))
  assert got.shape == (37,) and got[4] < 1e-3 and index[4] == 17
  np.testing.assert_array_equal(
      metrics.nearest_neighbour_distances(queries, references, batch_size=batch_size), got)


def test_nearest_neighbours_of_uint8_pixels_match_integer_arithmetic():
  """Pixels are handed over as uint8 (a quarter of float32's bytes) and made float32 on the
  device; squared distances agree with exact integer ones up to float32's rounding of the norms
  (a few units in millions)."""
  rng = np.random.default_rng(7)
  references = rng.integers(0, 256, (300, 784), dtype=np.uint8)
  queries = rng.integers(0, 256, (20, 784), dtype=np.uint8)
  queries[3] = references[123]
  got, index = metrics.nearest_neighbours(queries, references)
  squared = ((queries[:, None].astype(np.int64) - references[None].astype(np.int64)) ** 2).sum(-1)
  np.testing.assert_array_equal(index, squared.argmin(axis=1))
  np.testing.assert_allclose(got ** 2, squared.min(axis=1), rtol=1e-5, atol=4)
  assert got[3] ** 2 <= 4  # the copy of references[123]: 0 up to that rounding


def test_classifier_score_extremes():
  confident = np.tile(np.eye(10), (3, 1))
  assert metrics.classifier_score(confident) == pytest.approx(10.0)
  collapsed = np.tile([[0.7, 0.2, 0.1]], (8, 1))
  assert metrics.classifier_score(collapsed) == pytest.approx(1.0)


def test_classifier_score_matches_scipy_kl():
  probs = np.random.default_rng(7).dirichlet(np.full(10, 0.3), size=200)
  marginal = probs.mean(axis=0)
  expected = np.exp(np.mean([scipy.stats.entropy(p, marginal) for p in probs]))
  np.testing.assert_allclose(metrics.classifier_score(probs), expected, rtol=1e-10)


def test_mode_coverage():
  # 100 samples over 5 classes: uniform share 20, so min_fraction 0.1 needs 2 samples (classes
  # 0-3 covered) and 0.5 needs 10 (classes 0-2).
  labels = np.repeat([0, 1, 2, 3], [50, 30, 15, 5])
  result = metrics.mode_coverage(labels, 5)
  np.testing.assert_array_equal(result['counts'], [50, 30, 15, 5, 0])
  assert result['num_covered'] == 4
  assert metrics.mode_coverage(labels, 5, min_fraction=0.5)['num_covered'] == 3
  expected_entropy = -(0.5 * np.log(0.5) + 0.3 * np.log(0.3) + 0.15 * np.log(0.15)
                       + 0.05 * np.log(0.05))
  assert result['entropy'] == pytest.approx(expected_entropy)
  assert result['max_entropy'] == pytest.approx(np.log(5))


def test_conditional_accuracy():
  target = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
  predicted = np.array([0, 1, 0, 1, 1, 2, 0, 2, 2])
  result = metrics.conditional_accuracy(predicted, target, num_classes=4)
  # Rows = target: 0 -> predicted 0, 1, 0; 1 -> 1, 1; 2 -> 2, 0, 2, 2; class 3 never asked for.
  np.testing.assert_array_equal(result['confusion'],
                                [[2, 1, 0, 0], [0, 2, 0, 0], [1, 0, 3, 0], [0, 0, 0, 0]])
  np.testing.assert_allclose(result['per_class_accuracy'], [2 / 3, 1, 3 / 4, np.nan])
  assert result['accuracy'] == pytest.approx(7 / 9)


def test_matched_accuracy_by_hand():
  codes = np.array([0, 0, 0, 1, 1, 1, 2, 2])
  predicted = np.array([7, 7, 1, 1, 1, 7, 3, 3])
  result = metrics.matched_accuracy(codes, predicted, num_codes=3, num_classes=10)
  # Code 0 is mostly 7, code 1 mostly 1, code 2 all 3: 2 + 2 + 2 of 8 kept.
  np.testing.assert_array_equal(result['assignment'], [7, 1, 3])
  np.testing.assert_allclose(result['per_code_accuracy'], [2 / 3, 2 / 3, 1])
  assert result['accuracy'] == pytest.approx(6 / 8)
  assert result['counts'][1, 7] == 1 and result['counts'].sum() == 8
  # One-to-one: both codes prefer class 5; the better-supported keeps it, the other takes 2.
  result = metrics.matched_accuracy([0, 0, 0, 1, 1, 1], [5, 5, 5, 5, 5, 2], 2, 6)
  np.testing.assert_array_equal(result['assignment'], [5, 2])
  assert result['accuracy'] == pytest.approx(4 / 6)


@pytest.mark.parametrize('num_codes, num_classes', [(4, 4), (3, 5), (5, 3)])
def test_matched_accuracy_is_the_best_one_to_one_matching_by_brute_force(num_codes,
                                                                          num_classes):
  rng = np.random.default_rng(num_codes * 10 + num_classes)
  codes = rng.integers(0, num_codes, 300)
  predicted = np.where(rng.random(300) < 0.6, (codes * 2) % num_classes,
                       rng.integers(0, num_classes, 300))
  result = metrics.matched_accuracy(codes, predicted, num_codes, num_classes)
  best = 0
  for classes in itertools.permutations(range(num_classes), min(num_codes, num_classes)):
    for matched_codes in itertools.combinations(range(num_codes), len(classes)):
      kept = sum(np.sum((codes == c) & (predicted == k)) for c, k in zip(matched_codes, classes))
      best = max(best, kept)
  assert result['accuracy'] == pytest.approx(best / 300)
  assigned = result['assignment'][result['assignment'] >= 0]
  assert len(assigned) == min(num_codes, num_classes) == len(set(assigned.tolist()))


POINTS = np.random.default_rng(8).normal(size=(10, 3))


@pytest.mark.parametrize('call, message', [
    (lambda: metrics.classifier_score(np.full(10, 0.1)), 'probs must be a 2-D'),
    (lambda: metrics.classifier_score(np.full((4, 3), 0.5)), 'summing to 1'),
    (lambda: metrics.precision_recall(POINTS[:3], POINTS, k=3), 'real needs at least 4 rows'),
    (lambda: metrics.precision_recall(POINTS, POINTS, k=0), 'k must be a positive integer'),
    (lambda: metrics.density_coverage(POINTS, POINTS[:, :2]), 'fake has 2 dims'),
    (lambda: metrics.kernel_inception_distance(POINTS, POINTS, subset_size=1), 'subset_size'),
    (lambda: metrics.kernel_inception_distance(POINTS, POINTS, num_subsets=0), 'num_subsets'),
    (lambda: metrics.feature_statistics(POINTS[:1]), 'at least 2 rows'),
    (lambda: metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), np.eye(2)), 'cov2'),
    (lambda: metrics.frechet_distance(np.zeros(3), np.eye(3), np.zeros(2), np.eye(2)), 'means'),
    (lambda: metrics.nearest_neighbour_distances(POINTS, POINTS, batch_size=0), 'batch_size'),
    (lambda: metrics.nearest_neighbour_distances(np.full((2, 3), np.nan), POINTS), 'finite'),
    (lambda: metrics.mode_coverage([0, 1, 3], 3), r'must lie in \[0, 3\)'),
    (lambda: metrics.mode_coverage([0.0, 1.0], 3), 'integer array'),
    (lambda: metrics.mode_coverage([0, 1], 3, min_fraction=0), 'min_fraction'),
    (lambda: metrics.conditional_accuracy([0, 1], [0, 1, 1], 2), 'one length'),
    (lambda: metrics.conditional_accuracy([0, 1], [0, 1], 0), 'num_classes'),
    (lambda: metrics.matched_accuracy([0, 3], [0, 1], 3, 2), r'codes must lie in \[0, 3\)'),
    (lambda: metrics.matched_accuracy([0, 1], [0], 2, 2), 'one length'),
])
def test_bad_input_raises_value_error(call, message):
  with pytest.raises(ValueError, match=message):
    call()


def test_benchmark_prints_one_json_line_with_every_part():
  result = subprocess.run([sys.executable, '-m', 'gans.benchmarks.metrics',
                           '--num_samples=200', '--num_train=300', '--repeats=1'],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
  assert result.returncode == 0, result.stderr
  figures = json.loads(result.stdout.strip().splitlines()[-1])
  assert {'classifier_predict', 'frechet_distance', 'memorisation_nearest_train'} <= set(figures)
  assert figures['total'] > 0 and figures['num_samples'] == 200
