"""Read a rare-mine colbert output the way ColBERT's trainer does, in Python's own text semantics.

A mirror (not a copy) of the reading logic in stanford-futuredata/ColBERT: colbert/evaluation/loaders.py
load_queries (split a stripped line on tabs into qid, query and ignored columns; int qid; no repeats) and
load_collection (strip '\\n\\r ' from the line ends, split on tabs; int(pid) must equal the line index; a third
column would be a title), colbert/data/examples.py Examples._load_file (one JSON array per line, cut to nway + 1)
and colbert/training/lazy_batcher.py LazyBatcher.__next__ (query, *pids; [pid, score] pairs unzipped).
Files are opened as ColBERT opens them: text mode, universal newlines, UTF-8.

Usage: python3 colbert_read.py TRIPLES QUERIES COLLECTION NWAY
Prints one JSON object per triple: {"query": ..., "passages": [...], "scores": [...]}; exits non-zero on any
assertion ColBERT would fail.
"""
import json
import sys


def read_queries(path):
    queries = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            qid, query, *_ignored = line.strip().split("\t")
            qid = int(qid)
            assert qid not in queries, f"query qid {qid} is repeated"
            queries[qid] = query
    return queries


def read_collection(path):
    collection = []
    with open(path, encoding="utf-8") as f:
        for line_idx, line in enumerate(f):
            pid, passage, *rest = line.strip("\n\r ").split("\t")
            assert int(pid) == line_idx, f"pid={pid}, line_idx={line_idx}"
            assert not rest, f"line {line_idx} has a third column, which ColBERT reads as a title"
            collection.append(passage)
    return collection


def main():
    triples_path, queries_path, collection_path, nway = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    queries = read_queries(queries_path)
    collection = read_collection(collection_path)
    with open(triples_path, encoding="utf-8") as f:
        for line in f:
            qid, *pids = json.loads(line)[: nway + 1]
            assert len(pids) == nway, f"{len(pids)} passages, nway = {nway}"
            if all(isinstance(p, list) for p in pids):
                pids, scores = [p[0] for p in pids], [p[1] for p in pids]
            else:
                scores = []
            query = queries[qid]
            assert all(0 <= int(pid) < len(collection) for pid in pids), f"a pid of {pids} is not in the collection"
            passages = [collection[int(pid)] for pid in pids]
            print(json.dumps({"query": query, "passages": passages, "scores": scores}))


if __name__ == "__main__":
    main()
