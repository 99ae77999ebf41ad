#!/usr/bin/env bash
# Runs every test against the real PostgreSQL and RabbitMQ on this machine, starting or
# installing them first. Each test gets its own database (sqlx::test) and its own queue prefix.
# Last, scripts/contract.sh checks the server against its OpenAPI document (schemathesis).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
# The website's tests drive a real browser: Chromium, chromedriver and axe-core.
source scripts/browser.sh
# The notification tests send email to a real SMTP server on loopback: aiosmtpd.
source scripts/aiosmtpd.sh
# sqlx::test creates one database per test from this server.
export DATABASE_URL="${DATABASE_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
export AMQP_URL="${AMQP_URL:-amqp://guest:guest@127.0.0.1:5672/%2f}"
# Tests delete their queues even when they fail, but a run that was killed cannot: delete what
# earlier runs left (test-*, bench-*), or quorum queues pile up until the broker runs out of
# file handles.
leftovers=$(as_root rabbitmqctl list_queues -q --no-table-headers name 2>/dev/null \
  | grep -E '^(test|bench)-[0-9a-f]+\.' || true)
if [ -n "$leftovers" ]; then
  echo "deleting $(wc -l <<<"$leftovers") queues left by earlier test runs"
  sudo=$([ "$(id -u)" = 0 ] || echo sudo)
  xargs -P 4 -I{} sh -c '$0 rabbitmqctl delete_queue -q "$1" >/dev/null || true' "${sudo:-env}" {} <<<"$leftovers"
fi
# The cluster tests' three RabbitMQ nodes, apart from the machine's broker; deleted afterwards.
start_cluster() {
  trap 'scripts/rabbitmq-cluster.sh clean' EXIT
  scripts/rabbitmq-cluster.sh start
}
# First every test that leaves the shared servers alone, in parallel; then, alone, the ones that
# disturb them (they restart the broker, or stop nodes of a RabbitMQ cluster of their own),
# marked #[ignore] so a plain `cargo test` skips them.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast "$@"
  start_cluster
  cargo nextest run --workspace --no-fail-fast --run-ignored only --test-threads 1 "$@"
else
  cargo test --workspace --no-fail-fast "$@"
  start_cluster
  cargo test --workspace --no-fail-fast "$@" -- --ignored --test-threads 1
fi
# Then the contract: schemathesis against the real server and its /openapi.json.
scripts/contract.sh
