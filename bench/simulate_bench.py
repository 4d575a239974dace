"""Benchmark the forecast simulation (not part of the test suite).

    python bench/simulate_bench.py --deals 100000 --runs 10000

Times ``analytics.stats.simulate_sums`` (the 2,000 most uncertain deals drawn one by one,
the rest as one normal sum) on N open deals with amounts and stage probabilities like the
demo's, against the reference: every deal drawn in every run (chunked numpy). Prints both
times, their ratio, and the two methods' mean, P10, P50 and P90, which must agree within
the Monte Carlo error. Target (issue 5): 10,000 runs over 100,000 deals well under 1 s.
"""

import argparse
import math
import time

import numpy as np

from loudou.analytics.stats import percentiles, simulate_sums


def exact(amounts: np.ndarray, p: np.ndarray, runs: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    sums = np.zeros(runs)
    for start in range(0, amounts.size, 500):
        chunk = slice(start, start + 500)
        sums += (rng.random((runs, amounts[chunk].size)) < p[chunk]).astype(float) @ amounts[chunk]
    return sums


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(11)
    amounts = np.round(np.exp(rng.normal(11.5, 0.8, args.deals)), -2)  # as bench/generate.py
    p = rng.choice([0.10, 0.25, 0.50, 0.75], args.deals)
    started = time.perf_counter()
    fast = simulate_sums(amounts, p, runs=args.runs, seed=1)
    fast_s = time.perf_counter() - started
    started = time.perf_counter()
    reference = exact(amounts, p, args.runs, seed=2)
    exact_s = time.perf_counter() - started
    sd = math.sqrt(float((amounts**2 * p * (1 - p)).sum()))
    print(f"{args.deals:,} deals, {args.runs:,} runs; weighted pipeline {(amounts * p).sum():,.0f}")
    print(
        f"simulate_sums {fast_s:.3f} s; every deal drawn {exact_s:.2f} s; "
        f"ratio {fast_s / exact_s:.3f}"
    )
    print("           mean          P10           P50           P90")
    for name, sums in (("product", fast), ("reference", reference)):
        p10, p50, p90 = percentiles(sums, [10, 50, 90])
        print(f"{name:10s} {sums.mean():>13,.0f} {p10:>13,.0f} {p50:>13,.0f} {p90:>13,.0f}")
    print(f"(standard deviation of the sum {sd:,.0f}; standard error of a mean {sd / 100:,.0f})")


if __name__ == "__main__":
    main()
