#!/usr/bin/env bash
# Checks that the server and its OpenAPI document agree: runs schemathesis (every check) against
# the real system, started here with the demo restaurants on a throwaway database and queue
# prefix, and fails when schemathesis finds a problem. Run by test.sh after the Rust tests;
# runs alone too (it expects PostgreSQL and RabbitMQ up, as test.sh leaves them).
#
# SCHEMATHESIS_MAX_EXAMPLES bounds the cases per operation (default 100).
set -euo pipefail
cd "$(dirname "$0")/.."
# Starts (or installs) PostgreSQL and RabbitMQ if they are not answering; gives apt_install.
source scripts/services.sh

# The version this contract was verified with: its CLI and its checks change between releases.
SCHEMATHESIS_VERSION=4.32.5
venv="${XDG_CACHE_HOME:-$HOME/.cache}/maitred/schemathesis-$SCHEMATHESIS_VERSION"
if [ ! -x "$venv/bin/schemathesis" ]; then
  echo "installing schemathesis $SCHEMATHESIS_VERSION into $venv..."
  # Debian's python3 leaves venv (and its pip) to a package of its own.
  python3 -c 'import ensurepip, venv' 2>/dev/null || apt_install python3 python3-venv
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

run_id=$(python3 -c 'import uuid; print(uuid.uuid4().hex[:12])')
database="contract_$run_id"
admin_url="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token="contract-staff-token-$run_id"
scratch=$(mktemp -d)
log="$scratch/maitred.log"

export MAITRED_ENV=development
export DATABASE_URL="${admin_url%/*}/$database"
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
export MAITRED_AMQP_PREFIX="contract-$run_id."
export MAITRED_PARTITIONS=4
export MAITRED_HTTP_ADDR="127.0.0.1:$port"
export MAITRED_RATE_LIMITS=off
export MAITRED_JWT_SECRET="contract-jwt-secret-$run_id-not-for-production"
export MAITRED_ADMIN_TOKEN="$token"
export MAITRED_WEBHOOK_SECRET="whsec_Y29udHJhY3QtY2FsbGJhY2stc2VjcmV0LTEyMzQ1Ng=="

server=""
cleanup() {
  local status=$?
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null || true
  local sudo
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  ${sudo:-} rabbitmqctl list_queues -q --no-table-headers name 2>/dev/null \
    | grep -F "$MAITRED_AMQP_PREFIX" \
    | xargs -r -I{} ${sudo:-} rabbitmqctl delete_queue -q {} >/dev/null || true
  if [ "$status" != 0 ]; then
    echo "the server's log, last lines:" >&2
    tail -n 30 "$log" >&2 || true
  fi
  rm -rf "$scratch"
  exit "$status"
}
trap cleanup EXIT INT TERM

# A copy: a shared target directory may be rebuilt by another checkout while this one runs.
# MAITRED_CONTRACT_BINARY names an already built binary to check instead.
binary="$scratch/maitred"
if [ -n "${MAITRED_CONTRACT_BINARY:-}" ]; then
  cp "$MAITRED_CONTRACT_BINARY" "$binary"
else
  # Cargo says where it put the binary (the target directory may be configured anywhere).
  built=$(cargo build --quiet --bin maitred --message-format=json-render-diagnostics \
    | python3 -c 'import json, sys
print([m["executable"] for m in map(json.loads, sys.stdin)
       if m.get("reason") == "compiler-artifact" and m.get("executable")][-1])')
  cp "$built" "$binary"
fi

psql -q "$admin_url" -c "CREATE DATABASE $database" >/dev/null
"$binary" up --demo >"$log" 2>&1 &
server=$!
for _ in $(seq 1 60); do
  if curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$server" 2>/dev/null; then
    echo "maitred exited before it was ready:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 1
done
curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null

# One worker: with two, schemathesis on this Python (3.11) now and then fails inside its own
# code ("SystemError: AST constructor recursion depth mismatch", a thread race in compiling
# generated code), which is a runtime error of the tool, not a finding about the server.
time "$venv/bin/schemathesis" --config-file schemathesis.toml run "http://127.0.0.1:$port/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $token" \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-100}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --workers 1 \
  --generation-database none \
  --report junit --report-dir target/schemathesis-report \
  --no-color
