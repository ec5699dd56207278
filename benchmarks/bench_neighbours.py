"""Exact nearest-neighbour speed: synthgen's chunked float32 search against the peers.

The privacy audit's target (issue 3): all distance measures for 100k synthetic × 100k real
records × ~50 encoded dimensions within 3 minutes on the 2-core machine. This times
:func:`synthgen.evaluation.neighbours.nearest` on that size and prints the exact pair distances
per second it sustains; for comparison it times, on a subset of the queries against the same
reference, scikit-learn's ``NearestNeighbors(algorithm="brute")`` and a chunked
``torch.cdist`` + ``torch.topk``, and checks that all three agree.

    python benchmarks/bench_neighbours.py                       # 100k × 100k × 50, normal data
    python benchmarks/bench_neighbours.py --demo                # two encoded demo cohorts
    python benchmarks/bench_neighbours.py --n-query 20000 --n-ref 20000 --peer-query 2000

Writes ``benchmarks/results/neighbours.json`` and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def random_data(n_query: int, n_ref: int, dims: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    ref = rng.standard_normal((n_ref, dims), dtype=np.float32)
    query = rng.standard_normal((n_query, dims), dtype=np.float32)
    return query, ref


def demo_data(n_query: int, n_ref: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """Two independent draws of the demo simulator, encoded with a MixedEncoder fitted on one."""
    import synthgen as sg
    from synthgen.evaluation.encoding import MixedEncoder

    real = sg.datasets.demo_cohort(n_ref, seed=seed)
    schema = sg.infer_schema(real)
    real = schema.coerce(real)
    synthetic = schema.coerce(sg.datasets.demo_cohort(n_query, seed=seed + 1))
    start = time.perf_counter()
    enc = MixedEncoder().fit(real, schema)
    ref, query = enc.transform(real), enc.transform(synthetic)
    return query, ref, time.perf_counter() - start


def time_synthgen(query, ref, k):
    from synthgen.evaluation.neighbours import nearest

    start = time.perf_counter()
    dist, idx = nearest(query, ref, k=k)
    return time.perf_counter() - start, dist, idx


def time_sklearn(query, ref, k):
    from sklearn.neighbors import NearestNeighbors

    start = time.perf_counter()
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", n_jobs=-1).fit(ref)
    dist, idx = nn.kneighbors(query)
    return time.perf_counter() - start, dist, idx


def time_torch(query, ref, k, block=2048):
    import torch

    start = time.perf_counter()
    r = torch.from_numpy(ref)
    dists, idxs = [], []
    with torch.no_grad():
        for s in range(0, len(query), block):
            q = torch.from_numpy(query[s : s + block])
            d = torch.cdist(q, r, compute_mode="use_mm_for_euclid_dist")
            v, i = torch.topk(d, k, dim=1, largest=False, sorted=True)
            dists.append(v.numpy())
            idxs.append(i.numpy())
    return time.perf_counter() - start, np.vstack(dists), np.vstack(idxs)


def agreement(idx_a, dist_a, idx_b, dist_b) -> dict:
    return {
        "same_nearest_index": float(np.mean(idx_a[:, 0] == idx_b[:, 0])),
        "max_abs_distance_difference": float(np.max(np.abs(dist_a - dist_b))),
    }


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keep = ("user_api", "internal_api", "num_threads", "version", "architecture")
    return [{key: info.get(key) for key in keep} for info in threadpool_info()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-query", type=int, default=100_000, help="synthetic rows")
    parser.add_argument("--n-ref", type=int, default=100_000, help="real rows")
    parser.add_argument("--dims", type=int, default=50, help="width of random data")
    parser.add_argument("--k", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--demo", action="store_true", help="encode two demo cohorts instead")
    parser.add_argument(
        "--peer-query", type=int, default=20_000, help="query rows for the peer timings"
    )
    parser.add_argument("--skip-peers", action="store_true", help="time synthgen only")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "neighbours.json")
    args = parser.parse_args()

    encode_s = None
    if args.demo:
        query, ref, encode_s = demo_data(args.n_query, args.n_ref, args.seed)
        data = "demo_cohort, MixedEncoder"
    else:
        query, ref = random_data(args.n_query, args.n_ref, args.dims, args.seed)
        data = "standard normal float32"
    n_q, n_r, dims = len(query), len(ref), query.shape[1]

    rows = []
    secs, dist, idx = time_synthgen(query, ref, args.k)
    rows.append(
        {
            "method": "synthgen nearest",
            "n_query": n_q,
            "n_ref": n_r,
            "seconds": round(secs, 3),
            "pairs_per_second": n_q * n_r / secs,
        }
    )
    if not args.skip_peers:
        m = min(args.peer_query, n_q)
        sub = query[:m]
        ours_s, ours_d, ours_i = time_synthgen(sub, ref, args.k)
        rows.append(
            {
                "method": "synthgen nearest (peer subset)",
                "n_query": m,
                "n_ref": n_r,
                "seconds": round(ours_s, 3),
                "pairs_per_second": m * n_r / ours_s,
            }
        )
        for name, fn in (
            ('sklearn NearestNeighbors(algorithm="brute")', time_sklearn),
            ("torch cdist + topk", time_torch),
        ):
            s, d, i = fn(sub, ref, args.k)
            rows.append(
                {
                    "method": name,
                    "n_query": m,
                    "n_ref": n_r,
                    "seconds": round(s, 3),
                    "pairs_per_second": m * n_r / s,
                    "speedup_of_synthgen": round(s / ours_s, 2),
                    "agreement_with_synthgen": agreement(ours_i, ours_d, i, d.astype(np.float32)),
                }
            )

    result = {
        "benchmark": "exact nearest neighbours",
        "data": data,
        "dims": dims,
        "k": args.k,
        "seed": args.seed,
        "encode_seconds": None if encode_s is None else round(encode_s, 3),
        "target": "100k x 100k x ~50 dims within 180 s (~1.4e8 pairs/s)",
        "meets_target": rows[0]["seconds"] <= 180 * (n_q * n_r) / 1e10,
        "results": rows,
        "machine": {
            "python": platform.python_version(),
            "numpy": np.__version__,
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "blas": blas_info(),
        },
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    tmp.replace(args.out)

    print(f"data: {data}, {dims} dims, k={args.k}")
    print("| method | queries × reference | seconds | pairs/s | synthgen speed-up |")
    print("|---|---|---|---|---|")
    for row in rows:
        up = row.get("speedup_of_synthgen", "")
        print(
            f"| {row['method']} | {row['n_query']:,} × {row['n_ref']:,} | {row['seconds']:.2f} | "
            f"{row['pairs_per_second']:.3g} | {up} |"
        )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
