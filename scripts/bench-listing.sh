#!/usr/bin/env bash
# Admin listing cost on a folder of 10,000 files (release build, SQLite): the first page, a
# middle page, a page sorted by size, a search inside the folder and one everywhere. Each
# request is timed by curl (time to the last byte) 30 times; the median and p90 are printed.
# The number of database queries per page is checked by tests/query_count.rs, not here.
#
# Usage: scripts/bench-listing.sh [number of files, default 10000]
set -euo pipefail
cd "$(dirname "$0")/.."

FILES=${1:-10000}
PORT=18181
RUNS=30

cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/coffer
WORK=$(mktemp -d)
cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
export COFFER_DATA_DIR="$WORK/data" COFFER_LOG=warn

# A directory of $FILES small files, imported as one folder.
mkdir -p "$WORK/src/library"
python3 - "$WORK/src/library" "$FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
words = ["invoice", "report", "photo", "minutes", "draft", "contract", "budget", "notes"]
for i in range(n):
    name = f"{words[i % len(words)]}-{i:05d}.txt"
    with open(os.path.join(root, name), "w") as f:
        f.write("x" * (i % 997 + 1))
PY
"$BIN" serve --bind "127.0.0.1:$PORT" > "$WORK/serve.out" 2>&1 &
PID=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$PORT/login" >/dev/null 2>&1 && break; sleep 0.1; done
PASSWORD=$(sed -n 's/^Created the superuser "admin" with password: //p' "$WORK/serve.out")
echo "importing $FILES files…"
/usr/bin/time -f "import: %e s, peak RSS %M KiB" "$BIN" import "$WORK/src/library" > /dev/null

JAR="$WORK/jar"
TOKEN=$(curl -fs -c "$JAR" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="csrf_token" value="\([0-9a-f]*\)".*/\1/p')
curl -fs -b "$JAR" -c "$JAR" -o /dev/null "http://127.0.0.1:$PORT/login" \
    --data-urlencode username=admin --data-urlencode "password=$PASSWORD" --data-urlencode "csrf_token=$TOKEN"
FOLDER=$(curl -fs -b "$JAR" "http://127.0.0.1:$PORT/admin/folders/" | sed -n 's/.*href="\/admin\/folders\/\([0-9][0-9]*\)".*library.*/\1/p' | head -n1)
[ -n "$FOLDER" ] || { echo "the imported folder was not found" >&2; exit 1; }
MIDDLE=$(( (FILES / 100 + 1) / 2 ))

measure() { # label path
    local times
    times=$(for _ in $(seq 1 $RUNS); do
        curl -fs -b "$JAR" -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT$2"
    done | sort -n)
    python3 - "$1" $times <<'PY'
import sys
label, t = sys.argv[1], sorted(float(x) * 1000 for x in sys.argv[2:])
print(f"{label:<46}{t[len(t)//2]:>9.1f} ms{t[int(len(t)*0.9)]:>9.1f} ms")
PY
}
curl -fs -b "$JAR" -o /dev/null "http://127.0.0.1:$PORT/admin/folders/$FOLDER"   # warm
echo
echo "$FILES files in one folder, $RUNS requests each        median       p90"
measure "first page (100 files, by name)" "/admin/folders/$FOLDER"
measure "middle page ($MIDDLE)" "/admin/folders/$FOLDER?page=$MIDDLE"
measure "page 2 sorted by size, descending" "/admin/folders/$FOLDER?page=2&sort=-size"
measure "search in the folder (\"report\")" "/admin/folders/$FOLDER?q=report"
measure "search everywhere (\"invoice 000\")" "/admin/folders/?q=invoice+000"
echo "server peak RSS: $(awk '/VmHWM/ { printf "%.1f MiB", $2/1024 }' "/proc/$PID/status")"
