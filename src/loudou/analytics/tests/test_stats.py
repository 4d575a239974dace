"""Wilson intervals, the two-proportion z-test and the simulation, against known values."""

import numpy as np
import pytest

from loudou.analytics import stats
from loudou.analytics.stats import simulate_sums, two_proportion_z, wilson


def test_wilson_known_intervals():
    # Published 95% Wilson score intervals.
    low, high = wilson(5, 10)
    assert (round(low, 4), round(high, 4)) == (0.2366, 0.7634)
    low, high = wilson(0, 10)
    assert (round(low, 4), round(high, 4)) == (0.0, 0.2775)
    low, high = wilson(10, 10)
    assert (round(low, 4), round(high, 4)) == (0.7225, 1.0)
    # By hand: centre (p + z²/2n) / (1 + z²/n) = 0.75052, half-width 0.09651.
    low, high = wilson(55, 72)
    assert (round(low, 4), round(high, 4)) == (0.654, 0.847)
    assert wilson(0, 0) is None


def test_z_test_on_each_side_of_the_threshold():
    # By hand, pooled: 40/100 against 54/100: p̂ = 0.47, SE = 0.070583, z = -1.9835,
    # two-sided p = 2 × (1 − Φ(1.9835)) = 0.0473 (normal table): significant at 0.05 ...
    z, p = two_proportion_z(40, 100, 54, 100)
    assert z == pytest.approx(-1.9835, abs=1e-4) and p == pytest.approx(0.0473, abs=1e-4)
    # ... 41/100 against 54/100: p̂ = 0.475, z = -1.8408, p = 0.0656: not significant.
    z, p = two_proportion_z(41, 100, 54, 100)
    assert z == pytest.approx(-1.8408, abs=1e-4) and p == pytest.approx(0.0656, abs=1e-4)
    assert two_proportion_z(0, 10, 0, 10) is None  # nothing to test
    assert two_proportion_z(1, 0, 1, 10) is None


def test_simulation_is_reproducible_and_its_mean_converges():
    rng = np.random.default_rng(7)
    amounts = rng.integers(1_000, 100_000, 300).astype(float)
    probabilities = rng.choice([0.1, 0.25, 0.5, 0.75], 300)
    first = simulate_sums(amounts, probabilities, runs=10_000, seed=3)
    again = simulate_sums(amounts, probabilities, runs=10_000, seed=3)
    other = simulate_sums(amounts, probabilities, runs=10_000, seed=4)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    weighted = float((amounts * probabilities).sum())
    spread = float(np.sqrt((amounts**2 * probabilities * (1 - probabilities)).sum()))
    # The mean of 10,000 runs lies within 4 standard errors of the weighted pipeline.
    assert abs(first.mean() - weighted) < 4 * spread / 100
    assert abs(first.std() - spread) / spread < 0.05


def test_simulation_of_certain_and_impossible_deals():
    sums = simulate_sums(
        np.array([100.0, 200.0, 300.0]), np.array([1.0, 0.0, 1.0]), runs=100, seed=1
    )
    assert set(sums) == {400.0}


def test_many_deals_use_the_normal_part_and_keep_mean_and_spread(monkeypatch):
    monkeypatch.setattr(stats, "EXACT_DEALS", 50)
    amounts = np.full(5_000, 1_000.0)
    probabilities = np.full(5_000, 0.3)
    sums = simulate_sums(amounts, probabilities, runs=10_000, seed=2)
    assert sums.mean() == pytest.approx(1_500_000, rel=0.002)
    assert sums.std() == pytest.approx(np.sqrt(5_000 * 1_000**2 * 0.21), rel=0.05)
