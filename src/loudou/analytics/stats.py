"""The statistics behind the management reports: Wilson intervals, the two-proportion
z-test and the seeded Monte Carlo forecast. Pure functions of numbers."""

import math

import numpy as np

Z95 = 1.959963984540054  # the standard normal's 97.5th percentile: a two-sided 95% interval
EXACT_DEALS = 2_000  # the simulation draws these deals one by one (see ``simulate_sums``)
CHUNK = 250


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval for a proportion (None when n = 0)."""
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def two_proportion_z(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float] | None:
    """Pooled two-proportion z-test of x1/n1 against x2/n2: (z, two-sided p-value).
    None when either sample is empty or the pooled rate is 0 or 1 (nothing to test)."""
    if n1 <= 0 or n2 <= 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    if pooled in (0.0, 1.0):
        return None
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (x1 / n1 - x2 / n2) / se
    return z, math.erfc(abs(z) / math.sqrt(2))


def simulate_sums(
    amounts: np.ndarray, probabilities: np.ndarray, *, runs: int, seed: int
) -> np.ndarray:
    """``runs`` draws of the sum of amounts of the deals that win, each deal winning
    independently with its probability. Same inputs and seed, same draws.

    The EXACT_DEALS deals with the largest variance (amount² × p × (1 − p)) are drawn one
    by one. The sum of the others, each a small part of the total, is drawn as one normal
    variable with their exact mean and variance (clipped to what they can add up to): a
    draw per deal per run would be 10⁹ draws for 100,000 deals, and for many small
    independent deals the two agree far within the Monte Carlo error. Up to EXACT_DEALS
    deals, every deal is drawn."""
    amounts = np.asarray(amounts, dtype=np.float64)
    probabilities = np.clip(np.asarray(probabilities, dtype=np.float64), 0.0, 1.0)
    rng = np.random.default_rng(seed)
    sums = np.zeros(runs, dtype=np.float64)
    certain = probabilities >= 1.0
    sums += amounts[certain].sum()
    uncertain = ~certain & (probabilities > 0) & (amounts > 0)
    a, p = amounts[uncertain], probabilities[uncertain]
    if a.size == 0:
        return sums
    variance = a * a * p * (1 - p)
    # Largest variance first; ties keep the input order, so the result is reproducible.
    order = np.argsort(-variance, kind="stable")
    exact, rest = order[:EXACT_DEALS], order[EXACT_DEALS:]
    for start in range(0, exact.size, CHUNK):
        chunk = exact[start : start + CHUNK]
        won = rng.random((runs, chunk.size)) < p[chunk]
        sums += won.astype(np.float64) @ a[chunk]
    if rest.size:
        mean = float((a[rest] * p[rest]).sum())
        spread = math.sqrt(float(variance[rest].sum()))
        sums += np.clip(rng.normal(mean, spread, runs), 0.0, float(a[rest].sum()))
    return sums


def percentiles(values: np.ndarray, points: list[float]) -> list[float]:
    """Linear-interpolated percentiles (as the other reports' medians and p90s)."""
    return [float(v) for v in np.percentile(values, points, method="linear")]
