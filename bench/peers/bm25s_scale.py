#!/usr/bin/env python3
"""bm25s peer for bench/bm25-scale.ts (xhluca/bm25s from a source checkout: BM25S_SRC), build then ONE pass per k.

Closest configuration to rare-mine's: method "lucene", k1 0.9, b 0.4, lower-cased, its English stopwords and
PyStemmer's English (Snowball) stemmer when PyStemmer is importable (else no stemmer, said in the report).
The build is bm25s's own recommended path: read every text into a list, bm25s.tokenize, BM25.index.
Search: the queries tokenized with the same vocabulary, then retrieve(k) over all of them at once (its fastest
path, single process: n_threads 0). Timed search includes query tokenization. Prints one JSON report line.
Argument: one JSON config {corpus, queries, ks, src}.
"""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from corpus_files import read_corpus, read_queries  # noqa: E402
from scale_report import print_report, timed_pass  # noqa: E402


def main():
    config = json.loads(sys.argv[1])
    sys.path.insert(0, config["src"])
    import bm25s  # noqa: E402

    try:
        import Stemmer  # noqa: E402

        stemmer, stemmer_name = Stemmer.Stemmer("english"), "PyStemmer english"
    except ImportError:
        stemmer, stemmer_name = None, "none (PyStemmer not importable)"
    started, cpu_started = time.perf_counter(), time.process_time()
    texts = [title + "\n" + text if title else text for _id, title, text in read_corpus(config["corpus"])]
    read_seconds = time.perf_counter() - started
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
    docs = len(texts)
    del texts
    retriever = bm25s.BM25(method="lucene", k1=0.9, b=0.4)
    retriever.index(tokens, show_progress=False)
    index_seconds, index_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    index_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queries = [text for _id, text in read_queries(config["queries"], None)]
    search = {}
    for k in config["ks"]:

        def search_all(k=k):
            query_tokens = bm25s.tokenize(queries, stopwords="en", stemmer=stemmer, show_progress=False)
            retriever.retrieve(query_tokens, k=k, show_progress=False, n_threads=0)

        search[str(k)] = timed_pass(len(queries), search_all)
    print_report("bm25s", getattr(bm25s, "__version__", "source checkout"), docs, index_seconds, index_cpu, index_rss, search, stemmer=stemmer_name, read_seconds=read_seconds)

if __name__ == "__main__":
    main()
