#!/usr/bin/env bash
# Runs maitred on this machine: the API on MAITRED_HTTP_ADDR (default 127.0.0.1:8080) and the
# workers in one process, with demo restaurants. Starts or installs PostgreSQL and RabbitMQ first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
exec cargo run --release --quiet -- up --demo "$@"
