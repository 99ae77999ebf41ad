#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine, apart from its own broker, for the cluster
# tests and for trying maitred against a cluster:
#
#   scripts/rabbitmq-cluster.sh start   # starts the nodes, joins them, prints the AMQP_URL
#   scripts/rabbitmq-cluster.sh urls    # the AMQP_URL that lists the three nodes
#   scripts/rabbitmq-cluster.sh stop    # stops the nodes (their data stays for the next start)
#   scripts/rabbitmq-cluster.sh clean   # stops them and deletes their data
#   scripts/rabbitmq-cluster.sh ctl N ARGS...   # rabbitmqctl on node N (1..3), e.g. stop_app
#   scripts/rabbitmq-cluster.sh kill N  # kills node N's Erlang VM outright (kill -9)
#   scripts/rabbitmq-cluster.sh rebalance  # spreads the quorum queues' leaders over the nodes
#
# The nodes are maitred1..3@localhost, AMQP on 127.0.0.1:5681..5683 (Erlang distribution on
# 25681..25683). Their data, logs, configuration and one Erlang cookie live under
# MAITRED_RABBITMQ_CLUSTER_DIR (default ~/.cache/maitred/rabbitmq-cluster). They run as the
# current user from the distribution's RabbitMQ (installed by scripts/services.sh if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

DIR="${MAITRED_RABBITMQ_CLUSTER_DIR:-$HOME/.cache/maitred/rabbitmq-cluster}"
BIN=/usr/lib/rabbitmq/bin
NODES=(1 2 3)
port() { echo $((5680 + $1)); }
node() { echo "maitred$1@localhost"; }

urls() {
  local list=()
  for n in "${NODES[@]}"; do list+=("amqp://guest:guest@127.0.0.1:$(port "$n")/%2f"); done
  (IFS=,; echo "${list[*]}")
}

# Runs a RabbitMQ command as node $1, with the cluster's own files: nothing is shared with the
# machine's broker (its /etc/rabbitmq settings name port 5672 and its own node).
as_node() {
  local n=$1; shift
  env HOME="$DIR" \
    RABBITMQ_NODENAME="$(node "$n")" \
    RABBITMQ_NODE_PORT="$(port "$n")" \
    RABBITMQ_DIST_PORT="$(( $(port "$n") + 20000 ))" \
    RABBITMQ_CONF_ENV_FILE="$DIR/rabbitmq-env.conf" \
    RABBITMQ_CONFIG_FILE="$DIR/node$n/rabbitmq.conf" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$DIR/enabled_plugins" \
    RABBITMQ_MNESIA_BASE="$DIR/node$n/mnesia" \
    RABBITMQ_LOG_BASE="$DIR/node$n/log" \
    RABBITMQ_PID_FILE="$DIR/node$n/pid" \
    "$@"
}

ctl() { local n=$1; shift; as_node "$n" "$BIN/rabbitmqctl" -n "$(node "$n")" -q "$@"; }

# Whether node $1's Erlang VM answers (its RabbitMQ application may be stopped).
running() { as_node "$1" "$BIN/rabbitmq-diagnostics" -n "$(node "$1")" -q ping >/dev/null 2>&1; }

# Waits until node $1's VM answers: a detached start returns before it registers, and
# await_startup gives up at once on a node it cannot find.
wait_for_vm() {
  for _ in $(seq 1 120); do
    running "$1" && return 0
    sleep 1
  done
  echo "node $(node "$1") did not start: see $DIR/node$1/log" >&2
  return 1
}

configure() {
  mkdir -p "$DIR"
  if [ ! -f "$DIR/.erlang.cookie" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$DIR/.erlang.cookie"
    chmod 400 "$DIR/.erlang.cookie"
  fi
  echo '[].' > "$DIR/enabled_plugins"
  printf '%s\n' 'ERL_EPMD_ADDRESS=127.0.0.1' \
    'export ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"' > "$DIR/rabbitmq-env.conf"
  for n in "${NODES[@]}"; do
    mkdir -p "$DIR/node$n/log"
    printf '%s\n' "listeners.tcp.local = 127.0.0.1:$(port "$n")" \
      'log.file.level = warning' > "$DIR/node$n/rabbitmq.conf"
  done
}

start() {
  if [ ! -x "$BIN/rabbitmq-server" ]; then
    source scripts/services.sh
  fi
  configure
  # All at once: a restarted cluster's nodes wait for each other.
  for n in "${NODES[@]}"; do
    if running "$n"; then
      ctl "$n" start_app  # a node whose application was stopped (stop_app) resumes
    else
      as_node "$n" "$BIN/rabbitmq-server" -detached
    fi
  done
  for n in "${NODES[@]}"; do
    wait_for_vm "$n"
    ctl "$n" await_startup --timeout 120 >/dev/null
  done
  for n in 2 3; do
    if ! ctl "$n" cluster_status --formatter json | grep -q "\"$(node 1)\""; then
      # Joining logs errors about the node it joins while that one restarts: shown on failure.
      { ctl "$n" stop_app && ctl "$n" join_cluster "$(node 1)" && ctl "$n" start_app; } \
        >"$DIR/join.log" 2>&1 || { cat "$DIR/join.log" >&2; exit 1; }
    fi
  done
  for n in "${NODES[@]}"; do
    ctl "$n" await_startup --timeout 120 >/dev/null
  done
  echo "RabbitMQ cluster of ${#NODES[@]} nodes running: AMQP_URL=$(urls)" >&2
}

stop() {
  for n in "${NODES[@]}"; do
    if running "$n"; then ctl "$n" stop >/dev/null; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  clean) stop; rm -rf "$DIR" ;;
  urls) urls ;;
  ctl) shift; ctl "$@" ;;
  kill) kill -9 "$(cat "$DIR/node$2/pid")" ;;
  # Leaders stay where the queues were declared, or where they moved when a node left.
  rebalance) as_node 1 "$BIN/rabbitmq-queues" -n "$(node 1)" -q rebalance quorum ;;
  *) echo "usage: $0 start|stop|clean|urls|ctl N ...|kill N|rebalance" >&2; exit 2 ;;
esac
