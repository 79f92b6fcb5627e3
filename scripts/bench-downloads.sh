#!/usr/bin/env bash
# Download throughput, measured in one run with public tools (wrk, nginx):
#   1. nginx serving a 4 KiB file statically              (the baseline)
#   2. Coffer serving the same bytes as a private file to a logged-in user
#   3. Coffer answering a denied request for it (another logged-in user → 404)
#   4. nginx serving a 1 MiB file statically
#   5. Coffer serving the same 1 MiB as a private file
# Each line shows requests/s, MB/s and the ratio to the matching nginx baseline, then
# Coffer's peak resident memory (VmHWM) over the whole run.
#
# Usage: scripts/bench-downloads.sh [seconds per run, default 10]
# Needs: wrk, nginx, curl, python3 (installed with apt-get when missing), a release build.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-10}
THREADS=2
CONNECTIONS=32
NGINX_PORT=18080
COFFER_PORT=18081

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
command -v curl >/dev/null || need+=(curl)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release --quiet
BIN=target/release/coffer

WORK=$(mktemp -d)
cleanup() {
    [ -n "${COFFER_PID:-}" ] && kill "$COFFER_PID" 2>/dev/null || true
    [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

# The test files.
mkdir -p "$WORK/static" "$WORK/nginx/logs"
head -c 4096 /dev/urandom > "$WORK/static/4k.bin"
head -c 1048576 /dev/urandom > "$WORK/static/1m.bin"
# nginx workers run as an unprivileged user: let them read the files.
chmod 755 "$WORK" "$WORK/static" && chmod 644 "$WORK"/static/*

# nginx, serving the files statically.
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT;
        root $WORK/static;
    }
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"

# Coffer, with an admin, a reader allowed to read the folder, and an outsider.
export COFFER_DATA_DIR="$WORK/coffer" COFFER_LOG=warn
"$BIN" serve --bind "127.0.0.1:$COFFER_PORT" > "$WORK/coffer.out" 2> "$WORK/coffer.err" &
COFFER_PID=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$COFFER_PORT/login" >/dev/null 2>&1 && break
    sleep 0.1
done
PASSWORD=$(sed -n 's/^Created the superuser "admin" with password: //p' "$WORK/coffer.out")
API="http://127.0.0.1:$COFFER_PORT/api/v1"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
ADMIN=$(curl -fs -X POST "$API/tokens" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" | json '["token"]')
auth=(-H "Authorization: Bearer $ADMIN")
for u in reader outsider; do
    curl -fs -X POST "$API/users" "${auth[@]}" -H 'Content-Type: application/json' \
        -d "{\"username\":\"$u\",\"password\":\"benchmark password\"}" >/dev/null
done
READER_ID=$(curl -fs "$API/users" "${auth[@]}" | python3 -c 'import json,sys; print(next(u["id"] for u in json.load(sys.stdin) if u["username"] == "reader"))')
FOLDER=$(curl -fs -X POST "$API/folders" "${auth[@]}" -H 'Content-Type: application/json' -d '{"name":"bench"}' | json '["id"]')
curl -fs -X POST "$API/folder-permissions" "${auth[@]}" -H 'Content-Type: application/json' \
    -d "{\"folder_id\":$FOLDER,\"type\":\"children\",\"user_id\":$READER_ID,\"can_read\":\"allow\",\"can_edit\":\"inherit\",\"can_add_children\":\"inherit\"}" >/dev/null
URL4K=$(curl -fs -X POST "$API/files" "${auth[@]}" -F folder_id="$FOLDER" -F "file=@$WORK/static/4k.bin" | json '["url"]')
URL1M=$(curl -fs -X POST "$API/files" "${auth[@]}" -F folder_id="$FOLDER" -F "file=@$WORK/static/1m.bin" | json '["url"]')

# Log in through the form like a browser; wrk sends the session cookie.
login() {
    local jar="$WORK/$1.jar" token
    token=$(curl -fs -c "$jar" "http://127.0.0.1:$COFFER_PORT/login" | sed -n 's/.*name="csrf_token" value="\([0-9a-f]*\)".*/\1/p')
    curl -fs -b "$jar" -c "$jar" -o /dev/null "http://127.0.0.1:$COFFER_PORT/login" \
        --data-urlencode "username=$1" --data-urlencode "password=benchmark password" --data-urlencode "csrf_token=$token"
    awk '$6 == "coffer_session" { print $7 }' "$jar"
}
READER_COOKIE=$(login reader)
OUTSIDER_COOKIE=$(login outsider)

check() { # url cookie expected-status
    local got
    got=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: coffer_session=$2" "$1")
    [ "$got" = "$3" ] || { echo "expected $3 from $1, got $got" >&2; exit 1; }
}
check "http://127.0.0.1:$COFFER_PORT$URL4K" "$READER_COOKIE" 200
check "http://127.0.0.1:$COFFER_PORT$URL4K" "$OUTSIDER_COOKIE" 404
check "http://127.0.0.1:$NGINX_PORT/4k.bin" "" 200

# Resident memory while wrk runs: sampled every 0.2 s, the largest sample kept.
RSS_MAX=0
sample_rss() {
    while kill -0 "$COFFER_PID" 2>/dev/null; do
        awk '/VmRSS/ { print $2 }' "/proc/$COFFER_PID/status"
        sleep 0.2
    done
}

# wrk prints "Requests/sec: N" and "Transfer/sec: X.YYMB"; normalise to req/s and MB/s.
run() { # label url [cookie]
    local out rps mbs
    if [ -n "${3:-}" ]; then
        out=$(wrk -t$THREADS -c$CONNECTIONS -d"${DURATION}s" -H "Cookie: coffer_session=$3" "$2")
    else
        out=$(wrk -t$THREADS -c$CONNECTIONS -d"${DURATION}s" "$2")
    fi
    if echo "$out" | grep -q "Non-2xx"; then
        echo "$out" | grep "Non-2xx" | sed "s/^/  ($1) /" >&2
    fi
    rps=$(echo "$out" | awk '/Requests\/sec/ { print $2 }')
    mbs=$(echo "$out" | awk '/Transfer\/sec/ { v=$2; u=substr(v, length(v)-1); n=substr(v, 1, length(v)-2);
        if (u=="GB") n*=1024; else if (u=="KB") n/=1024; else if (u !~ /MB/) n/=1048576; print n }')
    echo "$rps $mbs"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s; $(nproc) cores; nginx $(nginx -v 2>&1 | sed 's/.*\///')"
HWM_BEFORE=$(awk '/VmHWM/ { printf "%.1f", $2/1024 }' "/proc/$COFFER_PID/status")
sample_rss > "$WORK/rss.samples" &
SAMPLER=$!
read -r N4_RPS N4_MBS < <(run "nginx 4k" "http://127.0.0.1:$NGINX_PORT/4k.bin")
read -r C4_RPS C4_MBS < <(run "coffer 4k" "http://127.0.0.1:$COFFER_PORT$URL4K" "$READER_COOKIE")
read -r D4_RPS D4_MBS < <(run "coffer denied" "http://127.0.0.1:$COFFER_PORT$URL4K" "$OUTSIDER_COOKIE")
read -r N1_RPS N1_MBS < <(run "nginx 1m" "http://127.0.0.1:$NGINX_PORT/1m.bin")
read -r C1_RPS C1_MBS < <(run "coffer 1m" "http://127.0.0.1:$COFFER_PORT$URL1M" "$READER_COOKIE")
PEAK=$(awk '/VmHWM/ { printf "%.1f", $2/1024 }' "/proc/$COFFER_PID/status")
kill "$SAMPLER" 2>/dev/null || true
UNDER_LOAD=$(sort -n "$WORK/rss.samples" | tail -n1 | awk '{ printf "%.1f", $1/1024 }')

python3 - "$N4_RPS" "$N4_MBS" "$C4_RPS" "$C4_MBS" "$D4_RPS" "$D4_MBS" "$N1_RPS" "$N1_MBS" "$C1_RPS" "$C1_MBS" "$PEAK" "$UNDER_LOAD" "$HWM_BEFORE" <<'PY'
import sys
n4r, n4m, c4r, c4m, d4r, d4m, n1r, n1m, c1r, c1m = map(float, sys.argv[1:11])
peak, under_load, before = sys.argv[11:14]
rows = [
    ("nginx static 4 KiB", n4r, n4m, None),
    ("Coffer private 4 KiB (logged-in reader)", c4r, c4m, c4r / n4r),
    ("Coffer denied 4 KiB (404)", d4r, d4m, d4r / n4r),
    ("nginx static 1 MiB", n1r, n1m, None),
    ("Coffer private 1 MiB (logged-in reader)", c1r, c1m, c1m / n1m),
]
print(f"{'case':<42}{'req/s':>12}{'MB/s':>10}{'vs nginx':>10}")
for name, r, m, ratio in rows:
    print(f"{name:<42}{r:>12,.0f}{m:>10.1f}{'' if ratio is None else f'{ratio:>9.1%}':>10}")
print(f"Coffer RSS under load (largest 0.2 s sample during the wrk runs): {under_load} MiB")
print(f"Coffer peak RSS (VmHWM) over the whole run: {peak} MiB ({before} MiB before the wrk runs,")
print("  reached while setting up: each argon2id login check works in ~19 MiB)")
PY
