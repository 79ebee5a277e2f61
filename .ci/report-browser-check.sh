#!/usr/bin/env bash
# Real-browser check of `rare-mine report`: mine SciFact's test queries with BM25 (positives: their judged abstracts,
# by text), write the report with --stats-json and --qrels, render it with headless Chromium (Debian `chromium`) to
# a PNG, and fail on any console message or uncaught error. The detection itself is checked first on a page that
# does log an error. Needs ../shared/data (skipped with a reason without it) and a built dist/ (npm test builds it).
# Usage: .ci/report-browser-check.sh [PNG_DIR]   (default: a temporary directory; the PNG path is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
data="${RARE_MINE_SHARED_DATA:-../shared/data}/scifact"
if [ ! -f "$data/corpus.jsonl" ]; then
  echo "report-browser-check: skipping: $data/corpus.jsonl not found (the real datasets live in ../shared/data)"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
[ -f dist/src/app/main.js ] || npx tsc -p tsconfig.json

work=$(mktemp -d)
shots="${1:-$work}"
mkdir -p "$shots"
export RARE_MINE_NO_PROGRESS=1

render() { # render HTML_FILE PNG_FILE LOG_FILE
  timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --user-data-dir="$(mktemp -d)" \
    --enable-logging=stderr --v=0 --hide-scrollbars --window-size=1280,4200 --screenshot="$2" "file://$1" 2>"$3" || true
}
console_errors() { grep -E 'CONSOLE|Uncaught' "$1" || true; }

# 1. The detection works: a page that logs an error and throws is caught.
printf '<!DOCTYPE html><html><body><script>console.error("report-check canary"); notDefined();</script></body></html>' >"$work/canary.html"
render "$work/canary.html" "$work/canary.png" "$work/canary.log"
if [ -z "$(console_errors "$work/canary.log")" ]; then
  echo "report-browser-check: chromium's log does not show console errors; cannot check the report" >&2
  cat "$work/canary.log" >&2
  exit 1
fi

# 2. A SciFact BM25 run and its report.
node -e '
  const fs = require("fs");
  const [dir, out] = process.argv.slice(1);
  const text = new Map();
  for (const l of fs.readFileSync(dir + "/corpus.jsonl", "utf8").split("\n")) if (l) { const d = JSON.parse(l); text.set(d._id, d.text); }
  const pos = new Map();
  for (const l of fs.readFileSync(dir + "/qrels/test.tsv", "utf8").split("\n").slice(1)) {
    const [q, d, g] = l.split("\t");
    if (q && Number(g) > 0 && text.has(d)) pos.set(q, [...(pos.get(q) || []), text.get(d)]);
  }
  const lines = [];
  for (const l of fs.readFileSync(dir + "/queries.test.jsonl", "utf8").split("\n")) if (l) {
    const q = JSON.parse(l);
    if (pos.has(q._id)) lines.push(JSON.stringify({ _id: q._id, question: q.text, text: pos.get(q._id) }));
  }
  fs.writeFileSync(out, lines.join("\n") + "\n");
' "$data" "$work/in.jsonl"
node bin/rare-mine.js bm25 --corpus "$data/corpus.jsonl" --index-dir "$work/idx" --num-neg 5 --with-scores --with-ranks --with-ids \
  --stats-json "$work/run.json" --log-level warn -o "$work/out.jsonl" "$work/in.jsonl"
node bin/rare-mine.js report "$work/out.jsonl" --stats-json "$work/run.json" --qrels "$data/qrels/test.tsv" --log-level warn -o "$work/report.html"

render "$work/report.html" "$shots/report-scifact-bm25.png" "$work/report.log"
errors=$(console_errors "$work/report.log")
if [ -n "$errors" ]; then
  echo "report-browser-check: the report logged to the console:" >&2
  echo "$errors" >&2
  exit 1
fi
if [ ! -s "$shots/report-scifact-bm25.png" ]; then
  echo "report-browser-check: chromium wrote no PNG" >&2
  cat "$work/report.log" >&2
  exit 1
fi
echo "report-browser-check: ok: $(wc -c <"$work/report.html") bytes of HTML rendered to $shots/report-scifact-bm25.png without console errors"
