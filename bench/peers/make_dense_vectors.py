#!/usr/bin/env python3
"""Seeded synthetic clustered unit vectors for bench/dense-scale.ts (issue 22), written as .npy next to the JSONL
files rare-mine's CLI reads, plus the exact top-k of a sample of the queries.

Recipe (every draw from one numpy Generator seeded by --seed, in this order, so equal arguments give equal bytes):
  - C centres (--centers, default N // 200) uniform on the unit sphere;
  - corpus row i = normalise(centre[c_i] + spread · g / sqrt(D)), c_i uniform in [0, C), g standard normal: the noise
    has norm ≈ spread, so two rows of one cluster have cosine ≈ 1 / (1 + spread²) (0.2 at the default 2.0) and rows
    of different clusters ≈ 0 ± 1/sqrt(D) (0.05 at 384-d): an exact top-100 mostly, not only, from the query's own
    cluster (meta.json's truth_in_source_cluster); at spread 1.0 it is the cluster alone and every graph finds it.
    Rows are drawn ROWS_PER_CHUNK at a time into an np.lib.format.open_memmap file, so 1M+ rows never sit in memory twice;
  - queries: Q distinct corpus rows (rng.choice without replacement), query j = normalise(row[source_j] +
    query_noise · g / sqrt(D)); sources.npy records each query's source row;
  - truth: a seeded sample of S queries (sorted ordinals, sample.npy); truth.npy holds their exact top-k corpus
    ordinals by cosine (rows and queries as stored, cast to float32 and re-normalised, so f16 storage is scored as
    read), ties broken by the lower ordinal, computed by blocked float32 matmul (numpy). truth_scores.npy: the scores.
Files in --out: corpus.npy, queries.npy (--dtype f32 | f16), corpus.jsonl ({"_id": "d<i>", "text": "passage <i> of
cluster <c_i>"}), queries.jsonl ({"question": "query <j>", "pos_ids": ["d<source_j>"]}), sources.npy, sample.npy,
truth.npy, truth_scores.npy, and meta.json last (its presence marks a complete set; it holds the arguments and timings).
Prints nothing on stdout; one summary line on stderr.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

ROWS_PER_CHUNK = 32768
TRUTH_BLOCK = 65536


def normalise(rows):
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def write_jsonl(path, count, line_of):
    """Write `count` lines line_of(i), in blocks (atomically: .partial renamed)."""
    with open(path + ".partial", "w", encoding="utf-8") as out:
        for first in range(0, count, 100_000):
            out.write("".join(line_of(i) for i in range(first, min(count, first + 100_000))))
    os.replace(path + ".partial", path)


def exact_top_k(corpus, queries, k):
    """Exact top-k ordinals and cosines of every query row over the corpus memmap, ties by lower ordinal."""
    best_ids = np.full((len(queries), 0), -1, dtype=np.int64)
    best_scores = np.zeros((len(queries), 0), dtype=np.float32)
    for first in range(0, corpus.shape[0], TRUTH_BLOCK):
        # A copy: on a float32 memmap np.asarray would be a view, and normalise() would write into the file.
        block = normalise(np.array(corpus[first:first + TRUTH_BLOCK], dtype=np.float32, copy=True))
        scores = queries @ block.T
        take = min(k, block.shape[0])
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        for row in range(len(queries)):
            # Everything scoring at least the k-th best of this block, so a tie at the boundary is settled by ordinal.
            threshold = scores[row, part[row]].min()
            local = np.nonzero(scores[row] >= threshold)[0]
            ids = np.concatenate([best_ids[row], local + first])
            vals = np.concatenate([best_scores[row], scores[row, local]])
            order = np.lexsort((ids, -vals))[:k]
            if row == 0:
                new_ids = np.empty((len(queries), len(order)), dtype=np.int64)
                new_scores = np.empty((len(queries), len(order)), dtype=np.float32)
            new_ids[row], new_scores[row] = ids[order], vals[order]
        best_ids, best_scores = new_ids, new_scores
    return best_ids, best_scores


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, required=True)
    parser.add_argument("--queries", type=int, required=True)
    parser.add_argument("--dims", type=int, default=384)
    parser.add_argument("--dtype", choices=["f32", "f16"], default="f32")
    parser.add_argument("--centers", type=int, default=None, help="cluster count (default docs // 200)")
    parser.add_argument("--spread", type=float, default=2.0, help="norm of a row's noise around its centre")
    parser.add_argument("--query-noise", type=float, default=0.5, help="norm of a query's noise around its source row")
    parser.add_argument("--sample", type=int, default=200, help="queries with exact top-k (truth.npy)")
    parser.add_argument("--k", type=int, default=100)
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    n, q, d = args.docs, args.queries, args.dims
    if q > n:
        parser.error("--queries must be at most --docs (each query copies a distinct corpus row)")
    centers_count = args.centers or max(1, n // 200)
    dtype = np.float32 if args.dtype == "f32" else np.float16
    os.makedirs(args.out, exist_ok=True)
    meta_path = os.path.join(args.out, "meta.json")
    if os.path.exists(meta_path):
        os.remove(meta_path)
    rng = np.random.default_rng(args.seed)
    timings = {}

    started = time.perf_counter()
    centers = normalise(rng.standard_normal((centers_count, d), dtype=np.float32))
    corpus_path = os.path.join(args.out, "corpus.npy")
    corpus = np.lib.format.open_memmap(corpus_path, mode="w+", dtype=dtype, shape=(n, d))
    clusters = np.empty(n, dtype=np.int32)
    scale = np.float32(args.spread / np.sqrt(d))
    for first in range(0, n, ROWS_PER_CHUNK):
        count = min(ROWS_PER_CHUNK, n - first)
        assigned = rng.integers(0, centers_count, size=count)
        rows = centers[assigned] + scale * rng.standard_normal((count, d), dtype=np.float32)
        corpus[first:first + count] = normalise(rows)
        clusters[first:first + count] = assigned
    corpus.flush()
    timings["corpus_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    sources = rng.choice(n, size=q, replace=False)
    scale = np.float32(args.query_noise / np.sqrt(d))
    queries = np.empty((q, d), dtype=np.float32)
    order = np.argsort(sources)  # read the memmap in ascending order
    for first in range(0, q, ROWS_PER_CHUNK):
        picked = order[first:first + ROWS_PER_CHUNK]
        queries[picked] = np.asarray(corpus[sources[picked]], dtype=np.float32)
    queries += scale * rng.standard_normal((q, d), dtype=np.float32)
    normalise(queries)
    queries = queries.astype(dtype)
    np.save(os.path.join(args.out, "queries.npy"), queries)
    np.save(os.path.join(args.out, "sources.npy"), sources.astype(np.int64))
    timings["queries_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    write_jsonl(os.path.join(args.out, "corpus.jsonl"), n, lambda i: f'{{"_id":"d{i}","text":"passage {i} of cluster {clusters[i]}"}}\n')
    write_jsonl(os.path.join(args.out, "queries.jsonl"), q, lambda j: f'{{"question":"query {j}","pos_ids":["d{sources[j]}"]}}\n')
    timings["jsonl_seconds"] = time.perf_counter() - started

    started = time.perf_counter()
    sample = np.sort(rng.choice(q, size=min(args.sample, q), replace=False))
    truth, truth_scores = exact_top_k(corpus, normalise(queries[sample].astype(np.float32)), args.k)
    np.save(os.path.join(args.out, "sample.npy"), sample.astype(np.int64))
    np.save(os.path.join(args.out, "truth.npy"), truth)
    np.save(os.path.join(args.out, "truth_scores.npy"), truth_scores)
    timings["truth_seconds"] = time.perf_counter() - started

    in_truth = float(np.mean([sources[j] in set(truth[i]) for i, j in enumerate(sample)]))
    meta = {
        "recipe": "bench/peers/make_dense_vectors.py",
        "docs": n, "queries": q, "dims": d, "dtype": args.dtype, "centers": centers_count, "spread": args.spread,
        "query_noise": args.query_noise, "sample": int(len(sample)), "k": args.k, "seed": args.seed,
        "numpy": np.__version__,
        "source_row_in_exact_top_k": in_truth,
        "truth_in_source_cluster": float(np.mean(clusters[truth] == clusters[sources[sample]][:, None])),
        "source_row_is_exact_top_1": float(np.mean(truth[:, 0] == sources[sample])),
        "mean_cosine_at_rank_1": float(truth_scores[:, 0].mean()),
        "mean_cosine_at_rank_k": float(truth_scores[:, -1].mean()),
        "seconds": {key: round(value, 2) for key, value in timings.items()},
    }
    with open(meta_path + ".partial", "w", encoding="utf-8") as out:
        json.dump(meta, out, indent=2)
    os.replace(meta_path + ".partial", meta_path)
    sys.stderr.write(f"make_dense_vectors: {n} x {d} {args.dtype}, {q} queries, truth for {len(sample)} in {sum(timings.values()):.1f} s -> {args.out}\n")


if __name__ == "__main__":
    main()
