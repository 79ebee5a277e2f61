"""What the bench/bm25-scale.ts peers measure and print: one timed pass of all queries per k, and the one JSON
report line whose fields bm25-scale.ts reads (its PeerReport), so every peer reports the same shape."""
import json
import resource
import sys
import time


def timed_pass(query_count, search_all):
    """Call search_all() once (every query at one k); its wall and CPU seconds as the report's entry for that k."""
    started, cpu_started = time.perf_counter(), time.process_time()
    search_all()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {"queries": query_count, "seconds": seconds, "cpu_seconds": cpu, "queries_per_second": query_count / seconds, "queries_per_cpu_second": query_count / cpu}


def print_report(engine, engine_version, docs, index_seconds, index_cpu, index_rss_kb, search, **extra):
    """Write the report line to stdout: build figures, the timed passes by k, peak RSS; `extra` after the version."""
    report = {
        "engine": engine,
        "engine_version": engine_version,
        **extra,
        "docs": docs,
        "index_seconds": index_seconds,
        "index_cpu_seconds": index_cpu,
        "index_docs_per_second": docs / index_seconds,
        "index_peak_rss_mb": index_rss_kb / 1024,
        "search": search,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    sys.stdout.write(json.dumps(report) + "\n")
