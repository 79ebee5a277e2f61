"""The corpus and query files the Python peers read (BEIR-style JSONL): one reader, no engine imported here."""
import json


def read_corpus(path):
    """(id, title, text) of every non-blank line of a corpus JSONL, in order."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                yield str(record.get("_id", record.get("id"))), record.get("title") or "", record["text"]


def read_queries(path, limit):
    """(id, text) of the queries, the first `limit` of them (all when None)."""
    queries = []
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                record = json.loads(line)
                queries.append((str(record.get("_id", record.get("id"))), record["text"]))
    return queries if limit is None else queries[:limit]
