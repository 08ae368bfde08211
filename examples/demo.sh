#!/usr/bin/env bash
# make demo: serve the sample outlets on loopback, run one full pass on the embedded
# defaults (./data/lake, ./data/warehouse.duckdb), show a search and a related list.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PORT="${NEWSFLOW_DEMO_PORT:-18765}"

"$BIN/python" -m pipeline.demo_server --root examples/sites --port "$PORT" >/dev/null &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
  "$BIN/python" - "$PORT" <<'PY' && break
import socket, sys
s = socket.socket(); s.settimeout(0.2)
sys.exit(0 if s.connect_ex(("127.0.0.1", int(sys.argv[1]))) == 0 else 1)
PY
  sleep 0.1
done

# The sample outlets live on the reserved .example TLD; map them to the loopback server.
export NEWSFLOW_RESOLVE="*.example=127.0.0.1:$PORT"
export NEWSFLOW_ALLOW_PRIVATE_NETWORKS=1

echo "== newsflow run --feeds examples/feeds.yaml"
"$BIN/newsflow" run --feeds examples/feeds.yaml --quiet
echo
echo "== newsflow search 'ميناء'"
"$BIN/newsflow" search "ميناء" --limit 3
echo
echo "== newsflow search 'port expansion'"
"$BIN/newsflow" search "port expansion" --limit 3
# The seed-like story: the one with most copies (an English original, a verbatim English
# copy and two Arabic translations).  Show its copies, then what a reader of one of its
# Arabic translations is offered as related: never another copy of the same story.
ARTICLE=$("$BIN/python" -c '
import yaml
stories = yaml.safe_load(open("examples/expected.yaml"))["stories"]
story = max(stories, key=lambda s: len(s["copies"]))
print(next(c["url"] for c in story["copies"] if c["kind"] == "translation"))')
echo
echo "== copies of the story of $ARTICLE"
"$BIN/python" - "$ARTICLE" <<'PY'
import sys, duckdb
from pipeline.extract.urls import article_id_for, canonicalize_url
con = duckdb.connect("data/warehouse.duckdb", read_only=True)
rows = con.execute(open("sql/duckdb/story_copies.sql").read(), [article_id_for(canonicalize_url(sys.argv[1]))]).fetchall()
for domain, lang, kind, score, title in rows:
    print(f"  {kind or 'original':12} [{lang}] {domain:22} {title}" + (f"  ({score:.2f})" if score else ""))
PY
echo
echo "== newsflow related $ARTICLE --lang ar"
"$BIN/newsflow" related "$ARTICLE" -k 5 --lang ar
echo
echo "Warehouse: ./data/warehouse.duckdb (open it with duckdb; see sql/README.md)"
STORY=$("$BIN/python" - "$ARTICLE" <<'PY'
import sys, duckdb
from pipeline.extract.urls import article_id_for, canonicalize_url
con = duckdb.connect("data/warehouse.duckdb", read_only=True)
print(con.execute("SELECT story_id FROM articles WHERE article_id = ?", [article_id_for(canonicalize_url(sys.argv[1]))]).fetchone()[0])
PY
)
echo
echo "Story pages: run   $BIN/newsflow serve --port 8000"
echo "then open          http://127.0.0.1:8000/stories/$STORY   (the seed-like story: original, copy, two translations)"
