"""What the bench/dense-scale.ts peers share: reading the .npy files make_dense_vectors.py wrote, recall@k against
its truth.npy, the timed pass, and the one JSON report line on stdout (the orchestrator reads the last line).

Vectors are read memory-mapped and handed to the engine CHUNK rows at a time as float32, L2-normalised (f16 files
are widened as read), so no engine sees a whole second copy of the corpus. Recall@k of a query = |engine's first k ∩
exact top-k| / k, averaged over the sample (sample.npy, truth.npy)."""
import json
import os
import resource
import sys
import time

import numpy as np

CHUNK = 65536


def load(work):
    """corpus memmap, all queries (float32, normalised), sample ordinals, truth ordinals (sample × k), meta."""
    with open(os.path.join(work, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    corpus = np.load(os.path.join(work, "corpus.npy"), mmap_mode="r")
    queries = normalised(np.load(os.path.join(work, "queries.npy")))
    return corpus, queries, np.load(os.path.join(work, "sample.npy")), np.load(os.path.join(work, "truth.npy")), meta


def normalised(rows):
    rows = np.array(rows, dtype=np.float32, copy=True)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def chunks(corpus):
    """(first ordinal, float32 normalised rows) over the corpus, CHUNK rows at a time."""
    for first in range(0, corpus.shape[0], CHUNK):
        yield first, normalised(corpus[first:first + CHUNK])


def recall_at(found, truth, k):
    """Mean |found[i][:k] ∩ truth[i][:k]| / k over the sample rows."""
    return float(np.mean([len(set(f[:k].tolist()) & set(t[:k].tolist())) / k for f, t in zip(found, truth)]))


class Clock:
    """Wall and CPU seconds since construction."""

    def __init__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self):
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def loaded_libraries(*needles):
    """Paths of the shared objects mapped into this process whose name contains one of `needles` (which BLAS)."""
    with open("/proc/self/maps", encoding="utf-8") as maps:
        paths = {line.split()[-1] for line in maps if "/" in line}
    return sorted(p for p in paths if any(n in os.path.basename(p) for n in needles))


def sweep(values, recall_of, target):
    """Try `values` in order until recall_of(value) ≥ target; every (value, recall, seconds) tried, and the chosen
    value (the first reaching the target, else the last tried, marked reached=False)."""
    tried = []
    for value in values:
        clock = Clock()
        recall = recall_of(value)
        tried.append({"value": value, "recall": round(recall, 4), "seconds": round(clock.read()[0], 3)})
        if recall >= target:
            return tried, value, True
    return tried, values[-1], False


def report(**fields):
    fields["peak_rss_mb"] = round(peak_rss_mb(), 1)
    sys.stdout.write(json.dumps(fields) + "\n")
