#!/usr/bin/env bash
# Regenerates .sqlx/: what the sqlx query macros know of the schema when they build offline
# (SQLX_OFFLINE=true, set in .cargo/config.toml, so no build ever needs a database).
# Run it after changing a query or a migration, and commit .sqlx/ with the change.
#
# It needs a PostgreSQL server (scripts/services.sh starts the local one), not sqlx-cli: it
# migrates a scratch database, then builds online with SQLX_OFFLINE_DIR set, which makes the
# macros write one file per query there. The scratch database is dropped afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
server="${SQLX_PREPARE_SERVER:-postgres://postgres:postgres@127.0.0.1:5432}"
# One scratch database per checkout, so two worktrees can prepare at once.
scratch="maitred_sqlx_prepare_$(pwd | cksum | cut -d" " -f1)"

psql "$server/postgres" -v ON_ERROR_STOP=1 -q \
  -c "DROP DATABASE IF EXISTS $scratch" -c "CREATE DATABASE $scratch"
trap 'psql "$server/postgres" -q -c "DROP DATABASE IF EXISTS $scratch"' EXIT
for migration in migrations/*.sql; do
  psql "$server/$scratch" -v ON_ERROR_STOP=1 -q -1 -f "$migration"
done

rm -rf .sqlx
mkdir .sqlx
# The macros run only when their crate is compiled again, whatever the environment says.
touch booking/src/lib.rs payments/src/lib.rs api/src/lib.rs
SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$PWD/.sqlx" DATABASE_URL="$server/$scratch" \
  cargo check --workspace --all-targets
echo "$(ls .sqlx | wc -l) queries in .sqlx/"
