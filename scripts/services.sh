#!/usr/bin/env bash
# Makes sure PostgreSQL and RabbitMQ are installed and running on this machine (Debian/Ubuntu).
# Installs them from the distribution's packages when they are missing, starts them when they
# are stopped, and leaves them alone when they already answer. Sourced by up.sh and test.sh.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 1; done
  echo "$2 did not start listening on port $1" >&2
  return 1
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@"
}

ensure_postgres() {
  if port_open 5432; then return 0; fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1; then
    echo "installing PostgreSQL..."
    apt_install postgresql
  fi
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  if [ ! -d "/etc/postgresql/$version/main" ]; then
    as_root pg_createcluster "$version" main
  fi
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  wait_for_port 5432 PostgreSQL
  # A fresh install asks for a password on TCP: give the postgres role the one our URLs use.
  as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null || true
}

ensure_rabbitmq() {
  if port_open 5672; then return 0; fi
  if ! command -v rabbitmq-server >/dev/null 2>&1; then
    echo "installing RabbitMQ..."
    apt_install rabbitmq-server
  fi
  as_root rabbitmq-server -detached || true
  wait_for_port 5672 RabbitMQ
  as_root rabbitmqctl await_startup >/dev/null 2>&1 || true
}

ensure_postgres
ensure_rabbitmq
