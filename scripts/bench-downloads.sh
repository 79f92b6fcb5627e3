#!/usr/bin/env bash
# Download throughput, measured in one run with public tools (wrk, curl, nginx, Apache):
#   1. nginx serving a 4 KiB file statically              (the baseline)
#   2. Coffer serving the same bytes as a private file to a logged-in user
#   3. Coffer answering a denied request for it (another logged-in user → 404)
#   4. nginx serving a 1 MiB file statically
#   5. Coffer serving the same 1 MiB as a private file
#   6. the same private files through nginx with X-Accel-Redirect (Coffer checks, nginx
#      sends; the configuration is `coffer nginx-config`'s), against rows 1 and 4
#   7. Apache serving the files statically, and the same private files through Apache with
#      mod_xsendfile (`coffer apache-config`), against Apache static
#   8. one 100 MiB download: nginx static, nginx X-Accel-Redirect, Coffer alone (curl)
#   9. the 4 KiB file through a share link (no account; the link counts each download)
#  10. the download audit on (the default) and off: the private 4 KiB download by two
#      Coffer processes on the same data, one with `audit.enabled = false`, run in turns
#      (on, off, on, off, …: $AUDIT_PAIRS pairs, default 3) so drift on this machine touches
#      both alike
# Each line shows requests/s, MB/s and the ratio to the matching baseline, then Coffer's
# peak resident memory (VmHWM) over the whole run.
#
# Usage: scripts/bench-downloads.sh [seconds per run, default 10]
# Needs: wrk, nginx, apache2 + libapache2-mod-xsendfile, curl, python3 (installed with
# apt-get when missing), a release build.
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${1:-10}
THREADS=2
CONNECTIONS=32
NGINX_PORT=18080
COFFER_PORT=18081
NGINX_ACCEL_PORT=18082      # nginx in front of Coffer (X-Accel-Redirect)
COFFER_ACCEL_PORT=18083     # Coffer with the nginx backend
APACHE_STATIC_PORT=18084
APACHE_SENDFILE_PORT=18085  # Apache in front of Coffer (X-Sendfile)
COFFER_SENDFILE_PORT=18086  # Coffer with the apache backend
COFFER_QUIET_PORT=18087     # Coffer with the download audit off
AUDIT_PAIRS=${AUDIT_PAIRS:-3}  # turns of audit on, then off

need=()
command -v wrk >/dev/null || need+=(wrk)
command -v nginx >/dev/null || need+=(nginx)
command -v curl >/dev/null || need+=(curl)
command -v apache2 >/dev/null || need+=(apache2)
[ -f /usr/lib/apache2/modules/mod_xsendfile.so ] || need+=(libapache2-mod-xsendfile)
if [ ${#need[@]} -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release --quiet
BIN=${CARGO_TARGET_DIR:-target}/release/coffer

WORK=$(mktemp -d)
# The servers' workers run as nobody: they must reach the files (Coffer writes them 0644
# under the usual umask 022).
chmod 755 "$WORK"
cleanup() {
    for pid in "${COFFER_PID:-}" "${COFFER_ACCEL_PID:-}" "${COFFER_SENDFILE_PID:-}" "${COFFER_QUIET_PID:-}"; do
        [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
    done
    [ -f "$WORK/nginx/nginx.pid" ] && kill "$(cat "$WORK/nginx/nginx.pid")" 2>/dev/null || true
    [ -f "$WORK/apache/httpd.pid" ] && kill "$(cat "$WORK/apache/httpd.pid")" 2>/dev/null || true
    sleep 0.5
    rm -rf "$WORK"
}
trap cleanup EXIT

# The test files.
mkdir -p "$WORK/static" "$WORK/nginx/logs"
head -c 4096 /dev/urandom > "$WORK/static/4k.bin"
head -c 1048576 /dev/urandom > "$WORK/static/1m.bin"
head -c 104857600 /dev/urandom > "$WORK/static/100m.bin"
chmod 755 "$WORK/static" && chmod 644 "$WORK/static"/*

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
    include $WORK/nginx/coffer.conf;
}
CONF
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
READER_ID=$(curl -fs "$API/users" "${auth[@]}" | python3 -c \
    "import json,sys; print(next(u['id'] for u in json.load(sys.stdin) if u['username'] == 'reader'))")
FOLDER=$(curl -fs -X POST "$API/folders" "${auth[@]}" -H 'Content-Type: application/json' -d '{"name":"bench"}' | json '["id"]')
curl -fs -X POST "$API/folder-permissions" "${auth[@]}" -H 'Content-Type: application/json' \
    -d "{\"folder_id\":$FOLDER,\"type\":\"children\",\"user_id\":$READER_ID,\"can_read\":\"allow\",\"can_edit\":\"inherit\",\"can_add_children\":\"inherit\"}" >/dev/null
URL4K=$(curl -fs -X POST "$API/files" "${auth[@]}" -F folder_id="$FOLDER" -F "file=@$WORK/static/4k.bin" | json '["url"]')
URL1M=$(curl -fs -X POST "$API/files" "${auth[@]}" -F folder_id="$FOLDER" -F "file=@$WORK/static/1m.bin" | json '["url"]')
URL100M=$(curl -fs -X POST "$API/files" "${auth[@]}" -F folder_id="$FOLDER" -F "file=@$WORK/static/100m.bin" | json '["url"]')
ID4K=$(curl -fs "$API/folders/$FOLDER/children" "${auth[@]}" | python3 -c \
    "import json,sys; print(next(f['id'] for f in json.load(sys.stdin)['files'] if f['size'] == 4096))")
SHARE4K=$(curl -fs -X POST "$API/shares" "${auth[@]}" -H 'Content-Type: application/json' -d "{\"file_id\":$ID4K}" | json '["url"]')/download

# The same data directory served by two more Coffer processes: one with the nginx backend
# behind nginx, one with the apache backend behind Apache, each with the configuration the
# matching `coffer *-config` prints.
start_coffer() { # port backend-env... ; prints the pid
    env "${@:2}" "$BIN" serve --bind "127.0.0.1:$1" >> "$WORK/coffer.out" 2>> "$WORK/coffer.err" &
    echo $!
}
COFFER_QUIET_PID=$(start_coffer $COFFER_QUIET_PORT COFFER_AUDIT__ENABLED=false)
COFFER_ACCEL_PID=$(start_coffer $COFFER_ACCEL_PORT COFFER_SERVER__PRIVATE__BACKEND=nginx COFFER_SERVER__PRIVATE_THUMBNAILS__BACKEND=nginx)
COFFER_SENDFILE_PID=$(start_coffer $COFFER_SENDFILE_PORT COFFER_SERVER__PRIVATE__BACKEND=apache COFFER_SERVER__PRIVATE__UNESCAPE=false COFFER_SERVER__PRIVATE_THUMBNAILS__BACKEND=apache COFFER_SERVER__PRIVATE_THUMBNAILS__UNESCAPE=false)
COFFER_BIND=127.0.0.1:$COFFER_ACCEL_PORT COFFER_SERVER__PRIVATE__BACKEND=nginx COFFER_SERVER__PRIVATE_THUMBNAILS__BACKEND=nginx \
    "$BIN" nginx-config --listen "127.0.0.1:$NGINX_ACCEL_PORT" > "$WORK/nginx/coffer.conf"
nginx -c "$WORK/nginx/nginx.conf" -p "$WORK/nginx"

mkdir -p "$WORK/apache/static"
cp "$WORK/static"/* "$WORK/apache/static/"
chmod 755 "$WORK/apache" "$WORK/apache/static"
{
    cat <<CONF
ServerRoot $WORK/apache
ServerName localhost
DefaultRuntimeDir $WORK/apache
PidFile $WORK/apache/httpd.pid
ErrorLog $WORK/apache/error.log
LogLevel warn
User nobody
Group nogroup
Listen 127.0.0.1:$APACHE_STATIC_PORT
Listen 127.0.0.1:$APACHE_SENDFILE_PORT
KeepAliveTimeout 30
MaxKeepAliveRequests 0
EnableSendfile On
CONF
    for m in mpm_event:mod_mpm_event authz_core:mod_authz_core alias:mod_alias mime:mod_mime \
             headers:mod_headers proxy:mod_proxy proxy_http:mod_proxy_http xsendfile:mod_xsendfile; do
        echo "LoadModule ${m%%:*}_module /usr/lib/apache2/modules/${m#*:}.so"
    done
    cat <<CONF
TypesConfig /etc/mime.types
<VirtualHost 127.0.0.1:$APACHE_STATIC_PORT>
    DocumentRoot $WORK/apache/static
    <Directory $WORK/apache/static>
        Require all granted
    </Directory>
</VirtualHost>
CONF
    COFFER_BIND=127.0.0.1:$COFFER_SENDFILE_PORT COFFER_SERVER__PRIVATE__BACKEND=apache COFFER_SERVER__PRIVATE__UNESCAPE=false \
        COFFER_SERVER__PRIVATE_THUMBNAILS__BACKEND=apache COFFER_SERVER__PRIVATE_THUMBNAILS__UNESCAPE=false \
        "$BIN" apache-config --listen "127.0.0.1:$APACHE_SENDFILE_PORT"
} > "$WORK/apache/httpd.conf"
apache2 -f "$WORK/apache/httpd.conf" -k start
for port in $COFFER_QUIET_PORT $COFFER_ACCEL_PORT $COFFER_SENDFILE_PORT $NGINX_ACCEL_PORT $APACHE_STATIC_PORT $APACHE_SENDFILE_PORT; do
    for _ in $(seq 1 100); do
        curl -s -o /dev/null "http://127.0.0.1:$port/login" && break
        sleep 0.1
    done
done

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
check "http://127.0.0.1:$COFFER_PORT$SHARE4K" "" 200
check "http://127.0.0.1:$COFFER_QUIET_PORT$URL4K" "$READER_COOKIE" 200
check "http://127.0.0.1:$NGINX_ACCEL_PORT$URL4K" "$READER_COOKIE" 200
check "http://127.0.0.1:$NGINX_ACCEL_PORT$URL4K" "$OUTSIDER_COOKIE" 404
check "http://127.0.0.1:$APACHE_STATIC_PORT/4k.bin" "" 200
check "http://127.0.0.1:$APACHE_SENDFILE_PORT$URL4K" "$READER_COOKIE" 200
check "http://127.0.0.1:$APACHE_SENDFILE_PORT$URL4K" "$OUTSIDER_COOKIE" 404
# The offloaded answers carry the bytes, and Coffer only the header.
cmp -s <(curl -fs -H "Cookie: coffer_session=$READER_COOKIE" "http://127.0.0.1:$NGINX_ACCEL_PORT$URL1M") "$WORK/static/1m.bin" \
    || { echo "nginx X-Accel-Redirect did not deliver the 1 MiB file" >&2; exit 1; }
cmp -s <(curl -fs -H "Cookie: coffer_session=$READER_COOKIE" "http://127.0.0.1:$APACHE_SENDFILE_PORT$URL1M") "$WORK/static/1m.bin" \
    || { echo "Apache X-Sendfile did not deliver the 1 MiB file" >&2; exit 1; }
curl -fsI -H "Cookie: coffer_session=$READER_COOKIE" "http://127.0.0.1:$COFFER_ACCEL_PORT$URL4K" | grep -qi '^x-accel-redirect:' \
    || { echo "Coffer with the nginx backend sent no X-Accel-Redirect" >&2; exit 1; }

# Resident memory while wrk runs: sampled every 0.2 s, the largest sample kept.
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

# One big download with curl: MB/s.
speed() { # url [cookie]
    local args=(-fs -o /dev/null -w '%{speed_download}')
    [ -n "${2:-}" ] && args+=(-H "Cookie: coffer_session=$2")
    curl "${args[@]}" "$1" | awk '{ printf "%.1f", $1 / 1048576 }'
}
best_speed() { # url [cookie]: the best of three, so one scheduling hiccup does not decide
    local best=0 s
    for _ in 1 2 3; do
        s=$(speed "$@")
        best=$(python3 -c "print(max($best, $s))")
    done
    echo "$best"
}

echo "wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s; $(nproc) cores; nginx $(nginx -v 2>&1 | sed 's/.*\///'); $(apache2 -v | sed -n 's/^Server version: //p')"
HWM_BEFORE=$(awk '/VmHWM/ { printf "%.1f", $2/1024 }' "/proc/$COFFER_PID/status")
sample_rss > "$WORK/rss.samples" &
SAMPLER=$!
read -r N4_RPS N4_MBS < <(run "nginx 4k" "http://127.0.0.1:$NGINX_PORT/4k.bin")
read -r C4_RPS C4_MBS < <(run "coffer 4k" "http://127.0.0.1:$COFFER_PORT$URL4K" "$READER_COOKIE")
read -r D4_RPS D4_MBS < <(run "coffer denied" "http://127.0.0.1:$COFFER_PORT$URL4K" "$OUTSIDER_COOKIE")
read -r L4_RPS L4_MBS < <(run "coffer share 4k" "http://127.0.0.1:$COFFER_PORT$SHARE4K")
# CPU time (user + system, clock ticks) of each process over its two turns, divided by the
# downloads it served: a count that the other processes on this machine blur less than
# req/s. Each process idles while the other is measured, but for the audit writer storing
# the last second's entries, which counts too.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
ON_T0=$(ticks "$COFFER_PID"); OFF_T0=$(ticks "$COFFER_QUIET_PID")
AUDIT_ON=(); AUDIT_OFF=()
for _ in $(seq 1 "$AUDIT_PAIRS"); do
    read -r rps _ < <(run "audit on 4k" "http://127.0.0.1:$COFFER_PORT$URL4K" "$READER_COOKIE"); AUDIT_ON+=("$rps")
    read -r rps _ < <(run "audit off 4k" "http://127.0.0.1:$COFFER_QUIET_PORT$URL4K" "$READER_COOKIE"); AUDIT_OFF+=("$rps")
done
sleep 1.5
ON_TICKS=$(($(ticks "$COFFER_PID") - ON_T0)); OFF_TICKS=$(($(ticks "$COFFER_QUIET_PID") - OFF_T0))
read -r X4_RPS X4_MBS < <(run "nginx x-accel 4k" "http://127.0.0.1:$NGINX_ACCEL_PORT$URL4K" "$READER_COOKIE")
read -r N1_RPS N1_MBS < <(run "nginx 1m" "http://127.0.0.1:$NGINX_PORT/1m.bin")
read -r C1_RPS C1_MBS < <(run "coffer 1m" "http://127.0.0.1:$COFFER_PORT$URL1M" "$READER_COOKIE")
read -r X1_RPS X1_MBS < <(run "nginx x-accel 1m" "http://127.0.0.1:$NGINX_ACCEL_PORT$URL1M" "$READER_COOKIE")
read -r A4_RPS A4_MBS < <(run "apache 4k" "http://127.0.0.1:$APACHE_STATIC_PORT/4k.bin")
read -r S4_RPS S4_MBS < <(run "apache x-sendfile 4k" "http://127.0.0.1:$APACHE_SENDFILE_PORT$URL4K" "$READER_COOKIE")
read -r A1_RPS A1_MBS < <(run "apache 1m" "http://127.0.0.1:$APACHE_STATIC_PORT/1m.bin")
read -r S1_RPS S1_MBS < <(run "apache x-sendfile 1m" "http://127.0.0.1:$APACHE_SENDFILE_PORT$URL1M" "$READER_COOKIE")
B_STATIC=$(best_speed "http://127.0.0.1:$NGINX_PORT/100m.bin")
B_ACCEL=$(best_speed "http://127.0.0.1:$NGINX_ACCEL_PORT$URL100M" "$READER_COOKIE")
B_COFFER=$(best_speed "http://127.0.0.1:$COFFER_PORT$URL100M" "$READER_COOKIE")
PEAK=$(awk '/VmHWM/ { printf "%.1f", $2/1024 }' "/proc/$COFFER_PID/status")
kill "$SAMPLER" 2>/dev/null || true
UNDER_LOAD=$(sort -n "$WORK/rss.samples" | tail -n1 | awk '{ printf "%.1f", $1/1024 }')
PEAK_ACCEL=$(awk '/VmHWM/ { printf "%.1f", $2/1024 }' "/proc/$COFFER_ACCEL_PID/status")

python3 - "$N4_RPS" "$N4_MBS" "$C4_RPS" "$C4_MBS" "$D4_RPS" "$D4_MBS" "$N1_RPS" "$N1_MBS" "$C1_RPS" "$C1_MBS" \
    "$X4_RPS" "$X4_MBS" "$X1_RPS" "$X1_MBS" "$A4_RPS" "$A4_MBS" "$S4_RPS" "$S4_MBS" "$A1_RPS" "$A1_MBS" "$S1_RPS" "$S1_MBS" \
    "$B_STATIC" "$B_ACCEL" "$B_COFFER" "$L4_RPS" "$L4_MBS" "$PEAK" "$PEAK_ACCEL" "$UNDER_LOAD" "$HWM_BEFORE" \
    "$(IFS=,; echo "${AUDIT_ON[*]}")" "$(IFS=,; echo "${AUDIT_OFF[*]}")" \
    "$ON_TICKS" "$OFF_TICKS" "$DURATION" "$(getconf CLK_TCK)" <<'PY'
import sys
v = list(map(float, sys.argv[1:28]))
n4r, n4m, c4r, c4m, d4r, d4m, n1r, n1m, c1r, c1m, x4r, x4m, x1r, x1m, a4r, a4m, s4r, s4m, a1r, a1m, s1r, s1m, bs, ba, bc, l4r, l4m = v
peak, peak_accel, under_load, before = sys.argv[28:32]
ons = [float(x) for x in sys.argv[32].split(",")]
offs = [float(x) for x in sys.argv[33].split(",")]
on_ticks, off_ticks, duration, hz = map(float, sys.argv[34:38])
rows = [
    ("nginx static 4 KiB", n4r, n4m, None),
    ("Coffer private 4 KiB (logged-in reader)", c4r, c4m, c4r / n4r),
    ("Coffer denied 4 KiB (404)", d4r, d4m, d4r / n4r),
    ("Coffer share link 4 KiB (no account)", l4r, l4m, l4r / n4r),
    ("Coffer + nginx X-Accel-Redirect 4 KiB", x4r, x4m, x4r / n4r),
    ("nginx static 1 MiB", n1r, n1m, None),
    ("Coffer private 1 MiB (logged-in reader)", c1r, c1m, c1m / n1m),
    ("Coffer + nginx X-Accel-Redirect 1 MiB", x1r, x1m, x1m / n1m),
    ("Apache static 4 KiB", a4r, a4m, None),
    ("Coffer + Apache X-Sendfile 4 KiB", s4r, s4m, s4r / a4r),
    ("Apache static 1 MiB", a1r, a1m, None),
    ("Coffer + Apache X-Sendfile 1 MiB", s1r, s1m, s1m / a1m),
]
print(f"{'case':<42}{'req/s':>12}{'MB/s':>10}{'vs static':>11}")
for name, r, m, ratio in rows:
    print(f"{name:<42}{r:>12,.0f}{m:>10.1f}{'' if ratio is None else f'{ratio:>10.1%}':>11}")
print()
print(f"{'one 100 MiB download (curl, best of 3)':<42}{'':>12}{'MB/s':>10}{'vs static':>11}")
for name, m, ratio in [
    ("nginx static", bs, None),
    ("Coffer + nginx X-Accel-Redirect", ba, ba / bs),
    ("Coffer alone (default backend)", bc, bc / bs),
]:
    print(f"{name:<42}{'':>12}{m:>10.1f}{'' if ratio is None else f'{ratio:>10.1%}':>11}")
print()
print(f"{'download audit, private 4 KiB (in turns)':<42}{'req/s':>12}{'':>10}{'on/off':>11}")
for i, (on, off) in enumerate(zip(ons, offs)):
    name = f"pair {i + 1}"
    print(f"{'  audit on, ' + name:<42}{on:>12,.0f}{'':>10}{on / off:>10.1%} ")
    print(f"{'  audit off, ' + name:<42}{off:>12,.0f}")
print(f"{'  all pairs':<42}{sum(ons) / len(ons):>12,.0f}{'':>10}{sum(ons) / sum(offs):>10.1%} ")
cpu_on = on_ticks / hz / (sum(ons) * duration) * 1e6
cpu_off = off_ticks / hz / (sum(offs) * duration) * 1e6
print(f"{'  Coffer CPU per download, audit on':<42}{cpu_on:>11.1f} µs{'':>9}{cpu_on / cpu_off:>10.1%} ")
print(f"{'  Coffer CPU per download, audit off':<42}{cpu_off:>11.1f} µs")
print(f"Coffer RSS under load (largest 0.2 s sample during the runs, default backend): {under_load} MiB")
print(f"Coffer peak RSS (VmHWM): default backend {peak} MiB ({before} MiB before the runs: each argon2id")
print(f"  login check works in ~19 MiB); nginx backend {peak_accel} MiB")
PY
