#!/usr/bin/env bash
# Runs maitred on this machine: the API on MAITRED_HTTP_ADDR (default 127.0.0.1:8080) and the
# workers in one process, with demo restaurants. Starts or installs PostgreSQL and RabbitMQ first.
#
# For local development it also sets, unless you set them yourself: a token signing secret, a
# bootstrap staff token, a callback signing secret, and permission to deliver webhooks to loopback (so `maitred listen-webhooks`
# can receive them). Never use these values in production.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
# Development mode accepts the values below; production (the default) refuses to start with them.
export MAITRED_ENV="${MAITRED_ENV:-development}"
export MAITRED_JWT_SECRET="${MAITRED_JWT_SECRET:-dev-only-jwt-secret-never-use-in-production}"
export MAITRED_ADMIN_TOKEN="${MAITRED_ADMIN_TOKEN:-dev-staff-token}"
export MAITRED_WEBHOOK_SECRET="${MAITRED_WEBHOOK_SECRET:-whsec_ZGV2LW9ubHktY2FsbGJhY2stc2VjcmV0LTEyMzQ=}"
export MAITRED_WEBHOOK_ALLOWED_NETWORKS="${MAITRED_WEBHOOK_ALLOWED_NETWORKS:-127.0.0.0/8,::1/128}"
exec cargo run --release --quiet -- up --demo "$@"
