#!/usr/bin/env bash
# Property-based tests of the ingest API (/api/v1) with schemathesis: starts `vitrine serve`
# on a fresh database (SQLite in a temp dir, or the PostgreSQL database named by
# VITRINE_TEST_POSTGRES_URL), with a domain, a record, an export folder and an ingest token,
# then lets schemathesis generate requests from /api/v1/openapi.json. It fails on any 5xx
# answer and on any answer that does not match the documented status codes, media types,
# headers and schemas.
#
# Usage: tests/openapi/run.sh VITRINE_BINARY SCHEMATHESIS_BINARY
set -euo pipefail

VITRINE="$1"
SCHEMATHESIS="$2"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
WORK="$(mktemp -d)"
SERVER=""
cleanup() {
  if [ -n "$SERVER" ]; then kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

DATABASE="${VITRINE_TEST_POSTGRES_URL:-sqlite://$WORK/vitrine.db}"
mkdir -p "$WORK/export/Beispiel_Werk_1"
cp "$ROOT/fixtures/demo/main/demo_mvw_0001.xml" "$ROOT/fixtures/demo/main/demo_mvw_0001_01.xml" \
  "$WORK/export/Beispiel_Werk_1/"
cat > "$WORK/vitrine.toml" <<TOML
[database]
url = "$DATABASE"
[ingest]
max_document_bytes = 1048576
export_dirs = ["$WORK/export"]
[domains.ulb]
repository_identifier = "digital.ulb.example.org"
[domains.ulb.oai.formats.zmets]
on = true
TOML
export VITRINE_CONFIG="$WORK/vitrine.toml" VITRINE_LOG=warn
"$VITRINE" domain add ulb --name ULB >/dev/null
"$VITRINE" domain add zd --parent ulb --name Zeitungen >/dev/null
"$VITRINE" import --domain ulb --release "$ROOT/fixtures/demo/main/demo_mono_0001.xml" >/dev/null
TOKEN="$("$VITRINE" token create --domain ulb --scope ingest --name schemathesis 2>/dev/null)"

"$VITRINE" serve --bind 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER=$!
PORT=""
for _ in $(seq 100); do
  PORT="$(sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\)$/\1/p' "$WORK/serve.out")"
  [ -n "$PORT" ] && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$WORK/serve.err" >&2; exit 1; }
  sleep 0.1
done
[ -n "$PORT" ] || { echo "vitrine serve did not start" >&2; cat "$WORK/serve.err" >&2; exit 1; }

"$SCHEMATHESIS" --config-file "$HERE/schemathesis.toml" run \
  "http://127.0.0.1:$PORT/api/v1/openapi.json" \
  --header "Authorization: Bearer $TOKEN" \
  --seed 20261203 \
  --no-color
