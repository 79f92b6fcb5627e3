"""Schemathesis hooks for scripts/fuzz-api.sh.

- Ids in paths, queries and bodies are often replaced by the ids the script seeded, so the
  fuzzer reaches real items (readable and secret ones) instead of only missing ones.
- `no_secret_reaches_the_reader` (the non-superuser run): no answer names a secret item
  (their names start with the marker) or describes one (a file or folder object with a
  secret id); asking for a secret item by id answers exactly like asking for a missing one.

FUZZ_SECRETS names the JSON file the script wrote: marker, secret folder and file ids, ids of
readable folders and users. FUZZ_ROLE is `staff` or `superuser`.
"""

import functools
import json
import os

import requests
import schemathesis
from hypothesis import strategies as st
from hypothesis.internal import lambda_sources

# Hypothesis describes lambdas by parsing their source file with `ast`; on CPython 3.11.7 that
# parse can fail with "SystemError: AST constructor recursion depth mismatch" (a CPython bug)
# inside Schemathesis' own generators, which ends the operation as an error. The
# description is only cosmetic: fall back to Hypothesis' own "unknown" form.
_describe = lambda_sources._lambda_description


def _describe_or_unknown(f, *args, **kwargs):
    try:
        return _describe(f, *args, **kwargs)
    except (SystemError, RecursionError):
        return "lambda: <unknown>"


lambda_sources._lambda_description = _describe_or_unknown

with open(os.environ["FUZZ_SECRETS"]) as f:
    SEEDED = json.load(f)

MARKER = SEEDED["marker"]
SECRET_FOLDERS = set(SEEDED["folders"])
SECRET_FILES = set(SEEDED["files"])
FOLDERS = sorted(SECRET_FOLDERS | set(SEEDED["readable_folders"]))
USERS = sorted(SEEDED["users"])
KNOWN = {
    "folder_id": FOLDERS,
    "parent_id": FOLDERS,
    "file_id": sorted(SECRET_FILES | set(range(1, 3))),
    "user_id": USERS,
    "owner_id": USERS,
    "group_id": list(range(1, 3)),
}
ANY_ID = sorted({i for ids in KNOWN.values() for i in ids})


def _with_known_ids(values):
    """Most of the time, the integer ids in `values` become ids the script seeded (of the
    kind the key names), so requests reach real items, secret ones included."""
    if not isinstance(values, dict):
        return st.just(values)
    keys = [k for k, v in values.items() if (k in KNOWN or k == "id") and _is_id(v)]
    if not keys:
        return st.just(values)
    known = st.fixed_dictionaries({k: st.sampled_from(KNOWN.get(k, ANY_ID)) for k in keys})
    # A named function, not a lambda: Hypothesis describes lambdas by parsing their source.
    replaced = known.map(functools.partial(_merged, values))
    return st.one_of(st.just(values), replaced, replaced, replaced)


def _merged(values, ids):
    return {**values, **ids}


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    return _with_known_ids(path_parameters)


@schemathesis.hook
def flatmap_query(context, query):
    return _with_known_ids(query)


@schemathesis.hook
def flatmap_body(context, body):
    return _with_known_ids(body)


def _described_secrets(value, found):
    """Secret items that a JSON answer describes: file objects (they have `sha256`) and
    folder objects (they have `parent_id`) with a secret id or a secret folder."""
    if isinstance(value, list):
        for item in value:
            _described_secrets(item, found)
    elif isinstance(value, dict):
        own, parent = value.get("id"), value.get("folder_id", value.get("parent_id"))
        if "sha256" in value:
            if (_is_id(own) and own in SECRET_FILES) or (_is_id(parent) and parent in SECRET_FOLDERS):
                found.append(value)
        elif "parent_id" in value:
            if (_is_id(own) and own in SECRET_FOLDERS) or (_is_id(parent) and parent in SECRET_FOLDERS):
                found.append(value)
        for item in value.values():
            _described_secrets(item, found)


def _asked_for_secret(case):
    """How the request names a secret item by id in its path or query: the URL with that id
    replaced by one that exists nowhere, or None."""
    path = case.operation.path
    item = (case.path_parameters or {}).get("id")
    if _is_id(item) and (
        (path.startswith("/api/v1/folders/{id}") and item in SECRET_FOLDERS)
        or (path.startswith("/api/v1/files/{id}") and item in SECRET_FILES)
    ):
        prefix = path.split("{id}")[0]
        return item, lambda url: url.replace(f"{prefix}{item}", f"{prefix}{NOWHERE}", 1)
    if path == "/api/v1/permissions/check":
        query = case.query or {}
        for key, secrets in (("folder_id", SECRET_FOLDERS), ("file_id", SECRET_FILES)):
            value = query.get(key)
            if _is_id(value) and value in secrets:
                return value, lambda url: url.replace(f"{key}={value}", f"{key}={NOWHERE}")
    return None


NOWHERE = 987654321
_session = requests.Session()


@schemathesis.check
def no_secret_reaches_the_reader(ctx, response, case):
    if os.environ.get("FUZZ_ROLE") != "staff":
        return None
    text = response.text or ""
    if MARKER in text:
        raise AssertionError(f"the answer names a secret item ({MARKER}…): {text[:300]}")
    try:
        body = json.loads(text) if text else None
    except ValueError:
        body = None
    found = []
    _described_secrets(body, found)
    if found:
        raise AssertionError(f"the answer describes secret items: {found[:3]}")
    asked = _asked_for_secret(case)
    if asked is None:
        return None
    # The same request about an item that exists nowhere must get the same answer.
    secret, elsewhere = asked
    request = response.request.copy()
    request.url = elsewhere(request.url)
    if request.url == response.request.url:
        return None
    other = _session.send(request, timeout=30)
    other_text = other.text.replace(str(NOWHERE), str(secret))
    if (other.status_code, other_text) != (response.status_code, text):
        raise AssertionError(
            f"asking for the unreadable item {secret} answered {response.status_code} "
            f"{text[:200]}, but for a missing one {other.status_code} {other.text[:200]}"
        )
    return None


@schemathesis.hook
def after_call(context, case, response):
    """With FUZZ_TRACE set, one line per request: method, URL, status (for looking into a run)."""
    trace = os.environ.get("FUZZ_TRACE")
    if trace:
        with open(trace, "a") as f:
            f.write(f"{os.environ.get('FUZZ_ROLE')} {response.request.method} {response.request.url} {response.status_code}\n")
