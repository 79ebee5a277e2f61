#!/usr/bin/env python3
"""FAISS peer for bench/dense-scale.ts: one index kind and build setting per process, build, a sweep of the search
parameter on the sample, then ONE timed pass of every query at the chosen value.

Inner product on float32 rows normalised as read (= cosine), faiss.omp_set_num_threads(threads), rows added in chunks
of 65,536.
  - kind "hnsw": IndexHNSWFlat(D, M, METRIC_INNER_PRODUCT), hnsw.efConstruction set; sweep hnsw.efSearch (FAISS
    searches with max(efSearch, k)).
  - kind "ivf": IndexIVFFlat over an IndexFlatIP quantizer, nlist lists (default round(4·sqrt(N))); k-means trained
    on trainPoints rows drawn (seeded) from the corpus, with niter iterations (FAISS's default is 25; the report
    says which), then every row added; sweep nprobe. Training and adding are both in the build time.
The sweep runs on the sample queries only and is NOT counted in the search time; the timed pass is one index.search of
all queries at top-k; its recall is read from its own results on the sample rows.
Argument: one JSON config {work, kind, k, recallK, threads, target, M?, efConstruction?, nlist?, trainPoints?, niter?,
sweep: [values]}; prints one JSON report line.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import faiss  # noqa: E402
import numpy as np  # noqa: E402
from dense_peer import Clock, chunks, load, loaded_libraries, normalised, peak_rss_mb, recall_at, report, sweep  # noqa: E402


def main():
    config = json.loads(sys.argv[1])
    clock = Clock()
    corpus, queries, sample, truth, meta = load(config["work"])
    load_seconds = clock.read()[0]
    n, d = corpus.shape
    k, recall_k, threads, kind = config["k"], config["recallK"], config["threads"], config["kind"]
    faiss.omp_set_num_threads(threads)
    seconds = {"load_npy": round(load_seconds, 3)}

    clock = Clock()
    if kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, config["M"], faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config["efConstruction"]
        label = f"HNSWFlat M={config['M']} efConstruction={config['efConstruction']}"
        param = "efSearch"

        def set_param(value):
            index.hnsw.efSearch = value
    elif kind == "ivf":
        nlist = config.get("nlist") or round(4 * np.sqrt(n))
        train_points = min(n, config.get("trainPoints") or 39 * nlist)
        quantizer = faiss.IndexFlatIP(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        index.cp.niter = config.get("niter", 25)
        index.cp.seed = 1234
        picked = np.sort(np.random.default_rng(7).choice(n, size=train_points, replace=False))
        train_clock = Clock()
        index.train(normalised(corpus[picked]))
        seconds["train"] = round(train_clock.read()[0], 3)
        label = f"IVFFlat nlist={nlist} train={train_points} rows niter={index.cp.niter}"
        param = "nprobe"

        def set_param(value):
            index.nprobe = value
    else:
        raise SystemExit(f"unknown kind {kind!r} (hnsw | ivf)")
    add_clock = Clock()
    for _first, rows in chunks(corpus):
        index.add(rows)
    seconds["add"] = round(add_clock.read()[0], 3)
    build_seconds, build_cpu = clock.read()
    seconds["build"] = round(build_seconds, 3)
    build_rss = peak_rss_mb()

    sample_queries = queries[sample]

    def recall_of(value):
        set_param(value)
        _scores, labels = index.search(sample_queries, k)
        return recall_at(labels, truth, recall_k)

    clock = Clock()
    values = [v for v in config["sweep"] if kind != "ivf" or v <= index.nlist] or [index.nlist]
    tried, value, reached = sweep(values, recall_of, config["target"])
    seconds["sweep_not_counted"] = round(clock.read()[0], 3)

    set_param(value)
    clock = Clock()
    _scores, labels = index.search(queries, k)
    search_seconds, search_cpu = clock.read()
    seconds["search"] = round(search_seconds, 3)
    report(
        engine=f"faiss-{kind}",
        engine_version=faiss.__version__ + " (Debian python3-faiss)",
        config=label,
        faiss_compile_options=faiss.get_compile_options() if hasattr(faiss, "get_compile_options") else None,
        faiss_avx2_module_loaded=bool(getattr(faiss, "has_AVX2", False)),
        docs=n, dims=d, queries=len(queries), k=k, threads=threads,
        build_seconds=round(build_seconds, 3), build_cpu_seconds=round(build_cpu, 3),
        build_vectors_per_second=round(n / build_seconds, 1), build_peak_rss_mb=round(build_rss, 1),
        search={param: value, "target_reached": reached, "seconds": round(search_seconds, 3), "cpu_seconds": round(search_cpu, 3),
                "queries_per_second": round(len(queries) / search_seconds, 1), f"recall_at_{recall_k}": round(recall_at(labels[sample], truth, recall_k), 4)},
        sweep={"param": param, "on": f"{len(sample)} sample queries", "tried": tried, "seconds": seconds["sweep_not_counted"]},
        build_plus_search_seconds=round(build_seconds + search_seconds, 3),
        seconds=seconds,
        libraries=loaded_libraries("blas", "lapack", "swigfaiss", "gomp"),
    )


if __name__ == "__main__":
    main()
