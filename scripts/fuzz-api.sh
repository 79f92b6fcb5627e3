#!/usr/bin/env bash
# Schema-driven fuzzing of the JSON API: schemathesis (PyPI) against a live Coffer, with the
# OpenAPI document the code generates (docs/openapi.json, served at /api/v1/openapi.json).
#
#   1. a temporary data directory with SQLite, the superuser `fuzz-root`
#      (`createsuperuser --password-stdin`), then `coffer serve` on a free loopback port;
#   2. through the API: a staff user `fuzz-staff` (rights on `shared` only) and a plain user;
#      folders, rules and files, the ones the staff user may not read named `secret-q7-…`;
#      tokens with `coffer token create`;
#   3. schemathesis twice, bounded (FUZZ_EXAMPLES examples per operation): as the staff user
#      (first, while the secrets are intact), then as the superuser. Checks: no 5xx, status
#      codes, content types, headers and bodies as documented, and for the staff user the
#      hook in scripts/fuzz_hooks.py: no answer names or describes a secret item, and asking
#      for one answers exactly like asking for a missing one.
#
# Exits non-zero on any failure; the server is stopped on exit.
# Usage: scripts/fuzz-api.sh   (env: COFFER_BIN, default debug/coffer under $CARGO_TARGET_DIR
# or target/; FUZZ_EXAMPLES, default 25; FUZZ_SEED, default 1 — a fixed seed makes runs
# repeatable; FUZZ_WORKERS, default 2: requests at once, so concurrent writes are fuzzed too)
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${COFFER_BIN:-${CARGO_TARGET_DIR:-target}/debug/coffer}
EXAMPLES=${FUZZ_EXAMPLES:-25}
SEED=${FUZZ_SEED:-1}
WORKERS=${FUZZ_WORKERS:-2}
[ -x "$BIN" ] || { echo "FAIL: $BIN is missing; build it first (cargo build)" >&2; exit 1; }

if ! schemathesis --version >/dev/null 2>&1; then
    pip install -q 'schemathesis==4.*'
fi
schemathesis --version

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
    if [ -n "$SERVER_PID" ]; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

export COFFER_DATA_DIR="$WORK/data"
export COFFER_ARGON2__MEMORY_KIB=1024 COFFER_ARGON2__ITERATIONS=1
export COFFER_LOG=${COFFER_LOG:-warn}
unset COFFER_CONFIG COFFER_DATABASE_URL
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
PASSWORD="fuzz-password-$RANDOM$RANDOM"

echo "$PASSWORD" | "$BIN" createsuperuser --username fuzz-root --password-stdin >/dev/null
"$BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fsS -o /dev/null "$BASE/api/v1/openapi.json" 2>/dev/null && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; echo "FAIL: coffer serve exited" >&2; exit 1; }
    sleep 0.2
done
curl -fsS "$BASE/api/v1/openapi.json" | cmp -s - docs/openapi.json \
    || { echo "FAIL: the served document differs from docs/openapi.json" >&2; exit 1; }

ROOT_TOKEN=$("$BIN" token create --username fuzz-root --name fuzz)
# Users, folders, rules and files; writes the secret names and ids for the hook.
python3 - "$BASE" "$ROOT_TOKEN" "$PASSWORD" "$WORK/secrets.json" <<'EOF'
import json, sys, urllib.request, uuid

base, token, password, out = sys.argv[1:]

def call(method, path, body=None, auth=token, raw=None, ctype="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {auth}")
    if data is not None:
        req.add_header("Content-Type", ctype)
    with urllib.request.urlopen(req) as res:
        return json.loads(res.read() or b"null")

def user(name, staff):
    return call("POST", "/api/v1/users", {"username": name, "password": password, "is_staff": staff})["id"]

def folder(name, parent=None):
    return call("POST", "/api/v1/folders", {"name": name, "parent_id": parent})["id"]

def upload(name, folder_id=None, owner_id=None):
    boundary = uuid.uuid4().hex
    parts = []
    for key, value in (("folder_id", folder_id), ("owner_id", owner_id)):
        if value is not None:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n')
    parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                 f'Content-Type: text/plain\r\n\r\ncontent of {name}\r\n--{boundary}--\r\n')
    return call("POST", "/api/v1/files", raw="".join(parts).encode(),
                ctype=f"multipart/form-data; boundary={boundary}")["id"]

def rule(**body):
    body.setdefault("can_edit", "inherit")
    body.setdefault("can_add_children", "inherit")
    return call("POST", "/api/v1/folder-permissions", body)

staff = user("fuzz-staff", True)
plain = user("secret-q7-plain", False)
shared = folder("shared")
inner = folder("secret-q7-inner", shared)
vault = folder("secret-q7-vault")
vault_sub = folder("secret-q7-vault-sub", vault)
rule(type="children", folder_id=shared, user_id=staff, can_read="allow", can_edit="allow",
     can_add_children="allow")
rule(type="children", folder_id=inner, user_id=staff, can_read="deny")
rule(type="children", folder_id=vault, user_id=plain, can_read="allow")
group = call("POST", "/api/v1/groups", {"name": "secret-q7-group"})["id"]
call("PUT", f"/api/v1/groups/{group}/members", {"user_ids": [plain]})
upload("shared-note.txt", shared)
upload("shared-other.txt", shared)
files = [upload("secret-q7-deep.txt", inner), upload("secret-q7-plans.txt", vault),
         upload("secret-q7-sub.txt", vault_sub), upload("secret-q7-root-unsorted.txt"),
         upload("secret-q7-plain-unsorted.txt", owner_id=plain)]
json.dump({"marker": "secret-q7", "folders": [inner, vault, vault_sub], "files": files,
           "readable_folders": [shared],
           "users": [call("GET", "/api/v1/users/me")["id"], staff, plain]}, open(out, "w"))
print(f"seeded: shared folder {shared}; secret folders {[inner, vault, vault_sub]}, files {files}")
EOF
STAFF_TOKEN=$("$BIN" token create --username fuzz-staff --name fuzz)

CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
status=0
run() {
    local who=$1 token=$2 checks=$3
    printf '\n==> schemathesis as %s\n' "$who"
    FUZZ_SECRETS="$WORK/secrets.json" FUZZ_ROLE=$who SCHEMATHESIS_HOOKS=scripts/fuzz_hooks.py \
        schemathesis --no-color run docs/openapi.json --url "$BASE" \
        -H "Authorization: Bearer $token" \
        --checks "$checks" \
        --phases examples,coverage,fuzzing \
        --max-examples "$EXAMPLES" --seed "$SEED" --workers "$WORKERS" \
        --request-timeout 30 --generation-database none \
        || status=1
}
run staff "$STAFF_TOKEN" "$CHECKS,no_secret_reaches_the_reader"
run superuser "$ROOT_TOKEN" "$CHECKS"

if grep -q "request failed\|panicked" "$WORK/server.log"; then
    echo "FAIL: the server logged failures:" >&2
    grep -A3 "request failed\|panicked" "$WORK/server.log" | head -40 >&2
    status=1
fi
kill -0 "$SERVER_PID" 2>/dev/null || { echo "FAIL: the server died" >&2; status=1; }
[ "$status" = 0 ] && echo "fuzzing passed" || echo "FAIL: fuzzing found failures (above)" >&2
exit "$status"
