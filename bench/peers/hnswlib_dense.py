#!/usr/bin/env python3
"""hnswlib peer for bench/dense-scale.ts: one (M, efConstruction) per process, build, an ef sweep on the sample, then
ONE timed pass of every query at the chosen ef.

Space "cosine" (hnswlib normalises), max_elements = N, random_seed 100, add_items in chunks of 65,536 float32 rows with
`threads` threads. The ef sweep (values ≥ k: hnswlib searches with max(ef, k)) runs on the sample queries only and
stops at the first ef whose recall@recallK reaches `target`; it is reported apart and NOT counted in the search time.
The timed pass is one knn_query of all queries at top-k with `threads` threads; its recall is read from its own results
on the sample rows.
Argument: one JSON config {work, M, efConstruction, k, recallK, threads, target, efs}; prints one JSON report line.
"""
import json
import os
import sys
from importlib import metadata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hnswlib  # noqa: E402
import numpy as np  # noqa: E402
from dense_peer import Clock, chunks, load, loaded_libraries, peak_rss_mb, recall_at, report, sweep  # noqa: E402


def main():
    config = json.loads(sys.argv[1])
    clock = Clock()
    corpus, queries, sample, truth, meta = load(config["work"])
    load_seconds = clock.read()[0]
    n, d = corpus.shape
    k, recall_k, threads = config["k"], config["recallK"], config["threads"]

    clock = Clock()
    index = hnswlib.Index(space="cosine", dim=d)
    index.init_index(max_elements=n, M=config["M"], ef_construction=config["efConstruction"], random_seed=100)
    for first, rows in chunks(corpus):
        index.add_items(rows, np.arange(first, first + len(rows)), num_threads=threads)
    build_seconds, build_cpu = clock.read()
    build_rss = peak_rss_mb()

    sample_queries = queries[sample]

    def recall_of(ef):
        index.set_ef(ef)
        labels, _ = index.knn_query(sample_queries, k=k, num_threads=threads)
        return recall_at(labels, truth, recall_k)

    clock = Clock()
    tried, ef, reached = sweep(config["efs"], recall_of, config["target"])
    sweep_seconds = clock.read()[0]

    index.set_ef(ef)
    clock = Clock()
    labels, _ = index.knn_query(queries, k=k, num_threads=threads)
    search_seconds, search_cpu = clock.read()
    report(
        engine="hnswlib",
        engine_version=metadata.version("hnswlib") + " (Debian python3-hnswlib)",
        config=f"M={config['M']} efConstruction={config['efConstruction']}",
        docs=n, dims=d, queries=len(queries), k=k, threads=threads,
        build_seconds=round(build_seconds, 3), build_cpu_seconds=round(build_cpu, 3),
        build_vectors_per_second=round(n / build_seconds, 1), build_peak_rss_mb=round(build_rss, 1),
        search={"ef": ef, "target_reached": reached, "seconds": round(search_seconds, 3), "cpu_seconds": round(search_cpu, 3),
                "queries_per_second": round(len(queries) / search_seconds, 1), f"recall_at_{recall_k}": round(recall_at(labels[sample], truth, recall_k), 4)},
        sweep={"param": "ef", "on": f"{len(sample)} sample queries", "tried": tried, "seconds": round(sweep_seconds, 3)},
        build_plus_search_seconds=round(build_seconds + search_seconds, 3),
        seconds={"load_npy": round(load_seconds, 3), "build": round(build_seconds, 3), "sweep_not_counted": round(sweep_seconds, 3), "search": round(search_seconds, 3)},
        libraries=loaded_libraries("blas", "lapack", "hnswlib"),
    )


if __name__ == "__main__":
    main()
