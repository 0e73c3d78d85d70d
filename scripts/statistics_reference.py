#!/usr/bin/env python3
"""Generate reference values for Airlock's statistics unit tests.

Usage: python3 scripts/statistics_reference.py
Writes Tests/AirlockEvalTests/Fixtures/statistics-reference.json (needs numpy, scipy).
"""
import json
import math
import re
import string
from collections import Counter
from pathlib import Path

import numpy as np
import scipy
from scipy import stats

OUT = Path(__file__).resolve().parent.parent / "Tests/AirlockEvalTests/Fixtures/statistics-reference.json"
Z = float(stats.norm.ppf(0.975))
Z_FIXED = 1.959963984540054  # the constant Airlock uses for normal intervals


def wilson(k, n, z=Z):
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    # At k = 0 / k = n the bound is exactly 0 / 1; avoid float round-off there (scipy does the same).
    return (0.0 if k == 0 else centre - half), (1.0 if k == n else centre + half)


def wilson_cases():
    rows = []
    for k, n in [(0, 10), (1, 10), (5, 10), (10, 10), (37, 50), (400, 400), (3, 1000), (123, 456)]:
        lo, hi = wilson(k, n)
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert math.isclose(lo, ci.low, rel_tol=1e-12, abs_tol=1e-15), (k, n, lo, ci.low)
        assert math.isclose(hi, ci.high, rel_tol=1e-12, abs_tol=1e-15), (k, n, hi, ci.high)
        rows.append({"successes": k, "n": n, "lower": lo, "upper": hi})
    return rows


def descriptive_cases():
    datasets = {
        "mixed-scores": [0.5, 1.0, 0.0, 1.0, 0.25],
        "ratings": [2.0, 3.5, 1.0, 4.0, 2.5, 3.0],
        "binary": [1.0, 1.0, 1.0, 0.0],
        "uniform-rng7-30": [float(x) for x in np.random.default_rng(7).uniform(size=30)],
    }
    rows = []
    for name, data in datasets.items():
        x = np.asarray(data)
        n = len(x)
        mean, sd = float(x.mean()), float(x.std(ddof=1))
        se = sd / math.sqrt(n)
        t_crit = float(stats.t.ppf(0.975, n - 1))
        rows.append({
            "name": name, "data": data, "n": n, "mean": mean, "std": sd, "se": se,
            "t_crit": t_crit, "t_lower": mean - t_crit * se, "t_upper": mean + t_crit * se,
            "z": Z_FIXED, "z_lower": mean - Z_FIXED * se, "z_upper": mean + Z_FIXED * se,
        })
    return rows


def cluster_se(values, clusters):
    x = np.asarray(values, dtype=float)
    labels = np.asarray(clusters)
    groups = list(dict.fromkeys(clusters))  # first-appearance order
    n, g = len(x), len(groups)
    mean = float(x.mean())
    score_sq = sum(float((x[labels == c] - mean).sum()) ** 2 for c in groups)
    return mean, math.sqrt(g / (g - 1) * score_sq) / n, n, g


def cluster_cases():
    cases = {
        "uneven-4-clusters": (
            [0.9, 0.7, 1.0, 0.8, 0.6, 0.2, 0.4, 0.3, 1.0, 0.0, 1.0, 0.5],
            ["a", "a", "a", "a", "a", "b", "b", "b", "c", "c", "c", "d"],
        ),
        "binary-interleaved-3-clusters": (
            [1, 0, 1, 1, 1, 0, 0, 1, 1, 0],
            ["q1", "q2", "q1", "q3", "q1", "q2", "q2", "q3", "q3", "q1"],
        ),
    }
    rows = []
    for name, (values, clusters) in cases.items():
        mean, se, n, g = cluster_se(values, clusters)
        rows.append({"name": name, "values": [float(v) for v in values], "clusters": clusters,
                     "n": n, "g": g, "mean": mean, "se": se})
    return rows


def t_quantiles():
    dfs = list(range(1, 41)) + [60, 120, 1000]
    return {"p": 0.975,
            "rows": [{"df": df, "value": float(stats.t.ppf(0.975, df))} for df in dfs],
            "normal": Z}


def normalize_answer(s):
    """SQuAD v1.1 normalisation: lower, drop punctuation, drop articles, collapse whitespace."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def f1_case(prediction, target):
    p, t = normalize_answer(prediction).split(), normalize_answer(target).split()
    same = sum((Counter(p) & Counter(t)).values())
    precision = same / len(p) if same else 0.0
    recall = same / len(t) if same else 0.0
    f1 = 2 * precision * recall / (precision + recall) if same else 0.0
    return {"prediction": prediction, "target": target, "prediction_tokens": p, "target_tokens": t,
            "precision": precision, "recall": recall, "f1": f1}


def f1_cases():
    pairs = [
        ("The Eiffel Tower", "eiffel tower"),                      # exact after normalisation -> 1
        ("Paris, France", "Paris"),                                # extra token
        ("in the year 1969", "1969"),                              # articles dropped, partial
        ("blue whale", "the African elephant"),                    # no overlap -> 0
        ("New York New York", "new york"),                         # repeated tokens, multiset counts
        ("It was Marie Curie's discovery.", "Marie Curie discovered it"),  # punctuation, partial overlap
    ]
    rows = [f1_case(p, t) for p, t in pairs]
    assert rows[0]["f1"] == 1.0 and rows[3]["f1"] == 0.0
    return rows


def main():
    ref = {
        "generator": "scripts/statistics_reference.py",
        "numpy_version": np.__version__,
        "scipy_version": scipy.__version__,
        "wilson": wilson_cases(),
        "descriptive": descriptive_cases(),
        "cluster_se": cluster_cases(),
        "t_quantiles": t_quantiles(),
        "f1": f1_cases(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(ref, indent=2) + "\n")  # json uses repr(): round-trip double precision
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
