#!/usr/bin/env bash
# The README's "Vectors from a GPU" recipe on files written by NumPy itself (Debian python3-numpy): a corpus and the
# bundled fixture's questions, vectors saved with np.save as float16 (as the recipe does) and float32 (header v1) and
# float32 with format version 2.0 and 3.0 (np.lib.format.write_array), each mined with the README's command. Without a
# GPU model, the rows are seeded random unit vectors near their records' positives, so the top negative is known to
# be what an exhaustive NumPy cosine ranking says. Fails on any difference.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
if ! /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends python3-numpy >/dev/null
fi
[ -f dist/src/app/main.js ] || npx tsc -p tsconfig.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 - "$work" fixtures/dataflow-scifact-40.jsonl <<'PY'
import json, sys, numpy as np
work, fixture = sys.argv[1], sys.argv[2]
records = [json.loads(line) for line in open(fixture) if line.strip()]
with open(f"{work}/corpus.jsonl", "w") as corpus:
    for i, r in enumerate(records):
        corpus.write(json.dumps({"_id": f"p{i}", "text": r["text"]}) + "\n")
with open(f"{work}/in.jsonl", "w") as out:
    for i, r in enumerate(records):
        out.write(json.dumps({"question": r["question"], "pos_ids": [f"p{i}"]}) + "\n")
rng = np.random.default_rng(7)
docs = rng.standard_normal((len(records), 64)).astype(np.float32)
docs /= np.linalg.norm(docs, axis=1, keepdims=True)
queries = docs + 0.3 * rng.standard_normal(docs.shape).astype(np.float32)
queries /= np.linalg.norm(queries, axis=1, keepdims=True)
np.save(f"{work}/corpus-f16.npy", docs.astype(np.float16))
np.save(f"{work}/queries-f16.npy", queries.astype(np.float16))
np.save(f"{work}/corpus-f32.npy", docs)
np.save(f"{work}/queries-f32.npy", queries)
for version in [(2, 0), (3, 0)]:
    with open(f"{work}/queries-v{version[0]}.npy", "wb") as f:
        np.lib.format.write_array(f, queries, version=version)
# The reference: the best-ranked document whose text is not the record's own positive (rare-mine excludes positives by
# id and by normalised text: two records of the fixture share a positive), from the saved (rounded) rows.
import unicodedata
norm = lambda t: " ".join(unicodedata.normalize("NFKC", t).lower().split())
texts = [norm(r["text"]) for r in records]
expected = {}
for tag, (d, q) in {"f16": (docs.astype(np.float16).astype(np.float32), queries.astype(np.float16).astype(np.float32)), "f32": (docs, queries)}.items():
    d = d / np.linalg.norm(d, axis=1, keepdims=True)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    scores = q @ d.T
    best = []
    for i in range(len(records)):
        order = sorted(range(len(records)), key=lambda j: (-float(scores[i, j]), j))
        best.append(next(f"p{j}" for j in order if texts[j] != texts[i]))
    expected[tag] = best
json.dump(expected, open(f"{work}/expected.json", "w"))
PY
mine() { # corpus-file query-file output
  RARE_MINE_NO_PROGRESS=1 node bin/rare-mine.js dense --corpus "$work/corpus.jsonl" --corpus-vectors "$1" --query-vectors "$2" \
    --positive-ids-key pos_ids --min-rank 0 --max-rank 40 --sample top --num-neg 1 --with-ids --index-dir "$work/idx-$(basename "$1" .npy)" \
    "$work/in.jsonl" -o "$3" 2>"$3.log" || { cat "$3.log"; echo "vectors-recipe-check: rare-mine failed on $1 $2"; exit 1; }
}
mine "$work/corpus-f16.npy" "$work/queries-f16.npy" "$work/out-f16.jsonl"
mine "$work/corpus-f32.npy" "$work/queries-f32.npy" "$work/out-f32.jsonl"
mine "$work/corpus-f32.npy" "$work/queries-v2.npy" "$work/out-v2.jsonl"
mine "$work/corpus-f32.npy" "$work/queries-v3.npy" "$work/out-v3.jsonl"
/usr/bin/python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
expected = json.load(open(f"{work}/expected.json"))
for out, tag in [("out-f16", "f16"), ("out-f32", "f32"), ("out-v2", "f32"), ("out-v3", "f32")]:
    got = [json.loads(line)["hard_negatives_ids"][0] for line in open(f"{work}/{out}.jsonl")]
    if got != expected[tag]:
        bad = [i for i, (g, e) in enumerate(zip(got, expected[tag])) if g != e]
        sys.exit(f"vectors-recipe-check: {out}: {len(bad)} records differ from NumPy's exhaustive ranking (first: record {bad[0]}: {got[bad[0]]} vs {expected[tag][bad[0]]})")
    print(f"vectors-recipe-check: {out}: {len(got)} records, negatives equal NumPy's exhaustive ranking")
PY
