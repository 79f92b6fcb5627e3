#!/usr/bin/env bash
# Several instances on one PostgreSQL, measured in one run with public tools (wrk, nginx):
#   1. checked 4 KiB downloads straight to one Coffer instance (no proxy)
#   2. the same through nginx to that one instance (`coffer nginx-config --upstream A`)
#   3. the same through nginx to two instances, round robin (`--upstream A --upstream B`)
# Rows 2 and 3 run in turns (2, 3, 2, 3) so drift on this machine touches both alike. Both
# instances run on this machine and share its two cores, so the ratio shows the overhead of a
# second instance, not scale. Then the CPU each instance used per request (from
# /proc/<pid>/stat over the runs) and the database's cost of one checked download (queries
# and round trips, counted through diesel's instrumentation by tests/query_count.rs on the
# same PostgreSQL).
#
# Usage: scripts/bench-cluster.sh [seconds per run, default 10]
# Needs: PostgreSQL at 127.0.0.1:5432 (user postgres, trust), wrk, nginx, curl, psql,
# python3, a release build.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-10}
THREADS=2
CONNECTIONS=32
PORT_A=18181
PORT_B=18182
NGINX_ONE=18183
NGINX_TWO=18184
PG=${PG_URL:-postgres://postgres@127.0.0.1:5432}

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
command -v curl >/dev/null || need+=(curl)
command -v psql >/dev/null || need+=(postgresql-client)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/coffer

WORK=$(mktemp -d)
chmod 755 "$WORK"
DB="coffer_bench_$$"
psql -q "$PG/postgres" -c "CREATE DATABASE $DB" >/dev/null
cleanup() {
    for pid in "${PID_A:-}" "${PID_B:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    for n in one two; do
        [ -f "$WORK/nginx-$n/nginx.pid" ] && kill "$(cat "$WORK/nginx-$n/nginx.pid")" 2>/dev/null || true
    done
    sleep 1
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

export COFFER_DATA_DIR="$WORK/coffer" COFFER_DATABASE_URL="$PG/$DB" COFFER_LOG=warn
wait_for() { # port
    for _ in $(seq 1 200); do
        curl -fs -o /dev/null "http://127.0.0.1:$1/healthz" && return 0
        sleep 0.1
    done
    echo "nothing answers on port $1" >&2
    exit 1
}
"$BIN" serve --bind "127.0.0.1:$PORT_A" > "$WORK/a.out" 2> "$WORK/a.err" &
PID_A=$!
wait_for $PORT_A
"$BIN" serve --bind "127.0.0.1:$PORT_B" > "$WORK/b.out" 2> "$WORK/b.err" &
PID_B=$!
wait_for $PORT_B

# A reader allowed to read a folder with a private 4 KiB file, set up through A.
PASSWORD=$(sed -n 's/^Created the superuser "admin" with password: //p' "$WORK/a.out")
API="http://127.0.0.1:$PORT_A/api/v1"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
ADMIN=$(curl -fs -X POST "$API/tokens" -H 'Content-Type: application/json' \
    -d "{\"username\":\"admin\",\"password\":\"$PASSWORD\"}" | json '["token"]')
auth=(-H "Authorization: Bearer $ADMIN")
READER_ID=$(curl -fs -X POST "$API/users" "${auth[@]}" -H 'Content-Type: application/json' \
    -d '{"username":"reader","password":"benchmark password"}' | json '["id"]')
FOLDER=$(curl -fs -X POST "$API/folders" "${auth[@]}" -H 'Content-Type: application/json' -d '{"name":"bench"}' | json '["id"]')
curl -fs -X POST "$API/folder-permissions" "${auth[@]}" -H 'Content-Type: application/json' \
    -d "{\"folder_id\":$FOLDER,\"type\":\"children\",\"user_id\":$READER_ID,\"can_read\":\"allow\",\"can_edit\":\"inherit\",\"can_add_children\":\"inherit\"}" >/dev/null
head -c 4096 /dev/urandom > "$WORK/4k.bin"
URL4K=$(curl -fs -X POST "$API/files" "${auth[@]}" -F folder_id="$FOLDER" -F "file=@$WORK/4k.bin" | json '["url"]')
READER=$(curl -fs -X POST "$API/tokens" -H 'Content-Type: application/json' \
    -d '{"username":"reader","password":"benchmark password"}' | json '["token"]')

# Two nginx processes: one in front of A, one in front of A and B.
start_nginx() { # name port upstream...
    local dir="$WORK/nginx-$1" port=$2
    shift 2
    mkdir -p "$dir/logs"
    local args=()
    for u in "$@"; do args+=(--upstream "$u"); done
    "$BIN" nginx-config --listen "127.0.0.1:$port" "${args[@]}" > "$dir/coffer.conf"
    cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 1000000;
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    include $dir/coffer.conf;
}
CONF
    nginx -c "$dir/nginx.conf" -p "$dir"
}
start_nginx one $NGINX_ONE "127.0.0.1:$PORT_A"
start_nginx two $NGINX_TWO "127.0.0.1:$PORT_A" "127.0.0.1:$PORT_B"
wait_for $NGINX_ONE
wait_for $NGINX_TWO

check() { # url
    local got
    got=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $READER" "$1")
    [ "$got" = 200 ] || { echo "expected 200 from $1, got $got" >&2; exit 1; }
}
for port in $PORT_A $PORT_B $NGINX_ONE $NGINX_TWO; do check "http://127.0.0.1:$port$URL4K"; done

cpu_ticks() { # pid: user+system clock ticks so far
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}
pg_ticks() { # every PostgreSQL server process together
    local t=0 p
    for p in $(pgrep -x postgres); do
        t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
    done
    echo $t
}
run() { # url: prints requests/s and the request count
    local out
    out=$(wrk -t$THREADS -c$CONNECTIONS -d"${DURATION}s" -H "Authorization: Bearer $READER" "$1")
    if echo "$out" | grep -q "Non-2xx"; then
        echo "$out" | grep "Non-2xx" >&2
        exit 1
    fi
    echo "$out" | awk '/Requests\/sec/ { rps=$2 } /requests in/ { n=$1 } END { print rps, n }'
}

echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s; $(nproc) cores; nginx $(nginx -v 2>&1 | sed 's/.*\///'); $(psql -V | awk '{print $3}') on 127.0.0.1"
A0=$(cpu_ticks $PID_A)
read -r DIRECT DIRECT_N < <(run "http://127.0.0.1:$PORT_A$URL4K")
A1=$(cpu_ticks $PID_A)
read -r ONE1 _ < <(run "http://127.0.0.1:$NGINX_ONE$URL4K")
A2=$(cpu_ticks $PID_A); B2=$(cpu_ticks $PID_B); P2=$(pg_ticks)
read -r TWO1 TWO1_N < <(run "http://127.0.0.1:$NGINX_TWO$URL4K")
A3=$(cpu_ticks $PID_A); B3=$(cpu_ticks $PID_B); P3=$(pg_ticks)
read -r ONE2 _ < <(run "http://127.0.0.1:$NGINX_ONE$URL4K")
read -r TWO2 _ < <(run "http://127.0.0.1:$NGINX_TWO$URL4K")
HZ=$(getconf CLK_TCK)

# The database's cost of one checked download, counted on the same PostgreSQL.
COST=$(TEST_DATABASE_URL="$PG/postgres" cargo test --quiet --all-features --test query_count \
    a_checked_download -- --nocapture 2>/dev/null | sed -n 's/^download cost: //p' | paste -sd ';' -)

python3 - "$DIRECT" "$DIRECT_N" "$ONE1" "$TWO1" "$TWO1_N" "$ONE2" "$TWO2" \
    "$A0" "$A1" "$A2" "$B2" "$A3" "$B3" "$HZ" "$COST" "$P2" "$P3" <<'PY'
import sys
direct, direct_n, one1, two1, two1_n, one2, two2 = map(float, sys.argv[1:8])
a0, a1, a2, b2, a3, b3, hz = map(float, sys.argv[8:15])
cost = sys.argv[15]
p2, p3 = map(float, sys.argv[16:18])
one, two = (one1 + one2) / 2, (two1 + two2) / 2
print(f"{'checked 4 KiB download (bearer token)':<46}{'req/s':>10}{'vs one':>9}")
print(f"{'  straight to instance A':<46}{direct:>10,.0f}")
print(f"{'  nginx -> A':<46}{one:>10,.0f}{'':>9}   ({one1:,.0f}, {one2:,.0f})")
print(f"{'  nginx -> A + B (round robin)':<46}{two:>10,.0f}{two / one:>9.1%}   ({two1:,.0f}, {two2:,.0f})")
us = lambda ticks, n: ticks / hz / n * 1e6
print(f"CPU per request: instance A alone {us(a1 - a0, direct_n):.1f} µs; "
      f"A and B behind nginx {us((a3 - a2) + (b3 - b2), two1_n):.1f} µs (both together); "
      f"PostgreSQL's server processes {us(p3 - p2, two1_n):.1f} µs")
print(f"PostgreSQL per checked download (warm): {cost or 'not measured'}")
PY
