#!/usr/bin/env bash
# System calls per checked download, counted (not timed) with `strace -f -c` attached to a
# running `coffer serve` while one keep-alive client (curl) makes N requests in a row:
#   1. a private 4 KiB file, bearer token
#   2. the same with the session cookie of a logged-in reader
#   3. a denied request for it (another user's token → 404)
#   4. a private 1 MiB file, bearer token
#   5. the 4 KiB file through a share link (no account)
# Each case prints the syscalls of the whole server process (every thread) divided by N,
# largest first, and their sum. Counts do not swing with the machine's load as timings do.
#
# Usage: scripts/syscalls-downloads.sh [requests per case, default 2000]
# Environment: SERVER_BIN (default: the release build, built first), COFFER_DATABASE_URL
# (default: SQLite in a fresh data directory; a postgres:// URL must name an empty
# database). Needs strace, curl and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

N=${1:-2000}
PORT=${PORT:-18091}

need=()
command -v strace >/dev/null || need+=(strace)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ -z "${SERVER_BIN:-}" ]; then
    cargo build --release --quiet
    SERVER_BIN=${CARGO_TARGET_DIR:-target}/release/coffer
fi

WORK=$(mktemp -d)
cleanup() {
    [ -n "${STRACE_PID:-}" ] && kill "$STRACE_PID" 2>/dev/null || true
    [ -n "${COFFER_PID:-}" ] && kill "$COFFER_PID" 2>/dev/null || true
    sleep 0.3
    rm -rf "$WORK"
}
trap cleanup EXIT

export COFFER_DATA_DIR="$WORK/coffer" COFFER_LOG=warn
"$SERVER_BIN" serve --bind "127.0.0.1:$PORT" > "$WORK/coffer.out" 2> "$WORK/coffer.err" &
COFFER_PID=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/login" >/dev/null 2>&1 && break
    sleep 0.1
done
PASSWORD=$(sed -n 's/^Created the superuser "admin" with password: //p' "$WORK/coffer.out")
[ -n "$PASSWORD" ] || { echo "no first-run admin (is the database empty?)" >&2; cat "$WORK/coffer.err" >&2; exit 1; }
API="http://127.0.0.1:$PORT/api/v1"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
token() { # username password
    curl -fs -X POST "$API/tokens" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$2\"}" | json '["token"]'
}
ADMIN=$(token admin "$PASSWORD")
auth=(-H "Authorization: Bearer $ADMIN")
for u in reader outsider; do
    curl -fs -X POST "$API/users" "${auth[@]}" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$u\",\"password\":\"benchmark password\"}" >/dev/null
done
READER_ID=$(curl -fs "$API/users" "${auth[@]}" | python3 -c \
    "import json,sys; print(next(u['id'] for u in json.load(sys.stdin) if u['username'] == 'reader'))")
FOLDER=$(curl -fs -X POST "$API/folders" "${auth[@]}" -H 'Content-Type: application/json' -d '{"name":"bench"}' | json '["id"]')
curl -fs -X POST "$API/folder-permissions" "${auth[@]}" -H 'Content-Type: application/json' \
    -d "{\"folder_id\":$FOLDER,\"type\":\"children\",\"user_id\":$READER_ID,\"can_read\":\"allow\",\"can_edit\":\"inherit\",\"can_add_children\":\"inherit\"}" >/dev/null
head -c 4096 /dev/urandom > "$WORK/4k.bin"
head -c 1048576 /dev/urandom > "$WORK/1m.bin"
URL4K=$(curl -fs -X POST "$API/files" "${auth[@]}" -F folder_id="$FOLDER" -F "file=@$WORK/4k.bin" | json '["url"]')
URL1M=$(curl -fs -X POST "$API/files" "${auth[@]}" -F folder_id="$FOLDER" -F "file=@$WORK/1m.bin" | json '["url"]')
ID4K=$(curl -fs "$API/folders/$FOLDER/children" "${auth[@]}" | python3 -c \
    "import json,sys; print(next(f['id'] for f in json.load(sys.stdin)['files'] if f['size'] == 4096))")
SHARE4K=$(curl -fs -X POST "$API/shares" "${auth[@]}" -H 'Content-Type: application/json' -d "{\"file_id\":$ID4K}" | json '["url"]')/download
READER=$(token reader "benchmark password")
OUTSIDER=$(token outsider "benchmark password")
jar="$WORK/reader.jar"
csrf=$(curl -fs -c "$jar" "http://127.0.0.1:$PORT/login" | sed -n 's/.*name="csrf_token" value="\([0-9a-f]*\)".*/\1/p')
curl -fs -b "$jar" -c "$jar" -o /dev/null "http://127.0.0.1:$PORT/login" \
    --data-urlencode "username=reader" --data-urlencode "password=benchmark password" --data-urlencode "csrf_token=$csrf"
COOKIE=$(awk '$6 == "coffer_session" { print $7 }' "$jar")

# N requests for one URL over one keep-alive connection; every answer must have `status`.
requests() { # count url status header
    local cfg="$WORK/curl.cfg"
    : > "$cfg"
    for _ in $(seq 1 "$1"); do
        printf 'url = "http://127.0.0.1:%s%s"\noutput = "/dev/null"\n' "$PORT" "$2" >> "$cfg"
    done
    local codes
    codes=$(curl -s -K "$cfg" -H "$4" -w '%{http_code}\n' | sort | uniq -c)
    [ "$(echo "$codes" | wc -l)" = 1 ] && [ "$(echo "$codes" | awk '{ print $2 }')" = "$3" ] \
        || { echo "expected only $3 from $2, got: $codes" >&2; exit 1; }
}

count() { # label url status header
    requests 50 "$2" "$3" "$4" # warm: connections opened, snapshot loaded
    strace -f -c -o "$WORK/strace.out" -p "$COFFER_PID" 2> "$WORK/strace.err" &
    STRACE_PID=$!
    # strace prints nothing when it is attached; give it a moment to reach every thread.
    sleep 1
    requests "$N" "$2" "$3" "$4"
    kill -INT "$STRACE_PID"
    wait "$STRACE_PID" || true
    STRACE_PID=
    python3 - "$1" "$N" "$WORK/strace.out" <<'PY'
import sys
label, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = []
for line in open(path):
    parts = line.split()
    # % time, seconds, usecs/call, calls, [errors], syscall
    if len(parts) >= 5 and parts[0][0].isdigit() and parts[-1] != "total":
        calls, name = int(parts[3]), parts[-1]
        rows.append((calls, name))
rows.sort(reverse=True)
total = sum(c for c, _ in rows)
print(f"{label}: {total / n:.2f} syscalls per request ({n} requests)")
for calls, name in rows:
    if calls / n >= 0.01:
        print(f"  {name:<16}{calls / n:>8.2f}")
print()
PY
}

echo "strace -f -c on coffer serve; one keep-alive client; $N requests per case"
echo
count "private 4 KiB, bearer token" "$URL4K" 200 "Authorization: Bearer $READER"
count "private 4 KiB, session cookie" "$URL4K" 200 "Cookie: coffer_session=$COOKIE"
count "denied 4 KiB (404), bearer token" "$URL4K" 404 "Authorization: Bearer $OUTSIDER"
count "private 1 MiB, bearer token" "$URL1M" 200 "Authorization: Bearer $READER"
count "share link 4 KiB, no account" "$SHARE4K" 200 "Accept: */*"
