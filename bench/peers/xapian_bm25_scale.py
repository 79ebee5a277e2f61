#!/usr/bin/env python3
"""Xapian peer for bench/bm25-scale.ts: one backend per process, build then ONE pass of distinct queries per k.

Same analysis and weighting as bench/peers/xapian_bm25.py (imported from it): BM25Weight(0.9, 0, 1, 0.4, 0.5),
Snowball English STEM_ALL, Lucene's 33 stopwords STOP_ALL, no positions, a query is OP_OR of its terms.
backend "inmemory": WritableDatabase("", DB_BACKEND_INMEMORY), searched in the process that built it; "disk": a glass database
committed once, closed, reopened for search. Timed search includes query analysis and get_mset(0, k).
Argument: one JSON config {corpus, queries, backend, indexDir, ks}; prints one JSON report line.
"""
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import xapian  # noqa: E402
from xapian_bm25 import read_corpus, read_queries, term_generator  # noqa: E402
from scale_report import print_report, timed_pass  # noqa: E402


def main():
    config = json.loads(sys.argv[1])
    generator, _stopper = term_generator()
    started, cpu_started = time.perf_counter(), time.process_time()
    if config["backend"] == "inmemory":
        db = xapian.WritableDatabase("", xapian.DB_BACKEND_INMEMORY)
    else:
        db = xapian.WritableDatabase(config["indexDir"], xapian.DB_CREATE_OR_OVERWRITE)
    docs = 0
    for _doc_id, title, text in read_corpus(config["corpus"]):
        document = xapian.Document()
        generator.set_document(document)
        generator.index_text_without_positions(title + "\n" + text if title else text)
        db.add_document(document)
        docs += 1
    db.commit()
    index_seconds, index_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    index_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if config["backend"] != "inmemory":
        db.close()
        db = xapian.Database(config["indexDir"])
    enquire = xapian.Enquire(db)
    enquire.set_weighting_scheme(xapian.BM25Weight(0.9, 0, 1, 0.4, 0.5))
    queries = [text for _id, text in read_queries(config["queries"], None)]
    search = {}
    for k in config["ks"]:
        # A fresh generator per pass: no analysis state carried over from the previous k.
        generator, _stopper = term_generator()

        def search_all(k=k, generator=generator):
            for text in queries:
                scratch = xapian.Document()
                generator.set_document(scratch)
                generator.index_text_without_positions(text)
                terms = [xapian.Query(item.term, item.wdf) for item in scratch.termlist()]
                enquire.set_query(xapian.Query(xapian.Query.OP_OR, terms))
                enquire.get_mset(0, k)

        search[str(k)] = timed_pass(len(queries), search_all)
    print_report(f"xapian-{config['backend']}", xapian.version_string(), docs, index_seconds, index_cpu, index_rss, search)

if __name__ == "__main__":
    main()
