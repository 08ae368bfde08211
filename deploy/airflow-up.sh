#!/usr/bin/env bash
# Start a local Airflow 3 (API server, scheduler, DAG processor, triggerer) on loopback
# with newsflow's DAGs and plugins loaded.  Ctrl-C stops every component.
#
#   deploy/airflow-up.sh                 # SQLite metadata in ./data/airflow, LocalExecutor
#   AIRFLOW_DB=postgresql+psycopg2://postgres@127.0.0.1:5432/airflow deploy/airflow-up.sh
#
# Environment (all optional): AIRFLOW_PORT (8080), AIRFLOW_HOME (./data/airflow),
# AIRFLOW_DB (metadata DB URL), NEWSFLOW_* settings (lake, warehouse, feeds file, ...),
# FETCH_POOL_SLOTS (4).  The UI is at http://127.0.0.1:$AIRFLOW_PORT (every user is admin:
# this is a laptop setup, see docs/airflow.md for a real deployment).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_BIN="${VENV_BIN:-$REPO/.venv/bin}"
PORT="${AIRFLOW_PORT:-8080}"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$REPO/data/airflow}"
mkdir -p "$AIRFLOW_HOME"
export PATH="$VENV_BIN:$PATH"
export PYTHONPATH="$REPO:$REPO/plugins${PYTHONPATH:+:$PYTHONPATH}"

export AIRFLOW__CORE__DAGS_FOLDER="$REPO/dags"
export AIRFLOW__CORE__PLUGINS_FOLDER="$REPO/plugins"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__EXECUTOR="${AIRFLOW__CORE__EXECUTOR:-LocalExecutor}"
export AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS:-True}"
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://127.0.0.1:$PORT/execution/"
export AIRFLOW__API__HOST=127.0.0.1
export AIRFLOW__API__PORT="$PORT"
export AIRFLOW__API__BASE_URL="http://127.0.0.1:$PORT"
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN="${AIRFLOW_DB:-sqlite:///$AIRFLOW_HOME/airflow.db}"
# one secret shared by every component of this deployment (kept across restarts)
SECRET_FILE="$AIRFLOW_HOME/.newsflow-secrets"
if [[ ! -f "$SECRET_FILE" ]]; then
  umask 077
  printf 'AIRFLOW__API_AUTH__JWT_SECRET=%s\nAIRFLOW__API__SECRET_KEY=%s\nAIRFLOW__CORE__FERNET_KEY=%s\n' \
    "$(python3 -c 'import secrets; print(secrets.token_hex(32))')" \
    "$(python3 -c 'import secrets; print(secrets.token_hex(16))')" \
    "$(python3 -c 'import base64, secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())')" > "$SECRET_FILE"
fi
set -a; . "$SECRET_FILE"; set +a
if [[ "$AIRFLOW__DATABASE__SQL_ALCHEMY_CONN" == sqlite* && "$AIRFLOW__CORE__EXECUTOR" == LocalExecutor ]]; then
  echo "note: SQLite metadata allows one task at a time; set AIRFLOW_DB to PostgreSQL for parallel shards" >&2
fi

airflow db migrate >/dev/null
airflow pools set newsflow_fetch "${FETCH_POOL_SLOTS:-4}" "newsflow feed/page fetching" >/dev/null

LOGS="$AIRFLOW_HOME/logs/components"
mkdir -p "$LOGS"
PIDS=()
cleanup() {
  trap - INT TERM EXIT
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  sleep 3
  for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap cleanup INT TERM EXIT
for component in api-server scheduler dag-processor triggerer; do
  setsid airflow "$component" >"$LOGS/$component.log" 2>&1 &
  PIDS+=("$!")
done
for _ in $(seq 1 120); do
  if curl -fsS "http://127.0.0.1:$PORT/api/v2/monitor/health" >/dev/null 2>&1; then break; fi
  sleep 1
done
# The environment every airflow command of this deployment needs (the CLI reads the same
# metadata DB, DAG folder and keys), in a file a new shell can source; secrets stay in
# $SECRET_FILE, which the env file sources rather than copies.
ENV_FILE="$AIRFLOW_HOME/newsflow.env"
{
  echo "# written by deploy/airflow-up.sh: set -a; . $ENV_FILE; set +a"
  for name in AIRFLOW_HOME PATH PYTHONPATH AIRFLOW__CORE__DAGS_FOLDER AIRFLOW__CORE__PLUGINS_FOLDER \
              AIRFLOW__CORE__LOAD_EXAMPLES AIRFLOW__CORE__EXECUTOR AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS \
              AIRFLOW__CORE__EXECUTION_API_SERVER_URL AIRFLOW__API__HOST AIRFLOW__API__PORT AIRFLOW__API__BASE_URL \
              AIRFLOW__DATABASE__SQL_ALCHEMY_CONN; do
    printf '%s=%q\n' "$name" "${!name}"
  done
  for name in $(compgen -e | grep -E '^NEWSFLOW_' || true); do  # may hold keys: the file is 0600
    printf '%s=%q\n' "$name" "${!name}"
  done
  echo ". $SECRET_FILE"
} > "$ENV_FILE"
chmod 600 "$ENV_FILE"
echo "Airflow is up: http://127.0.0.1:$PORT  (DAGs: $REPO/dags, logs: $LOGS)"
echo "newsflow_ingest and newsflow_process run once loaded; newsflow_reprocess is paused (docs/airflow.md)."
echo "In a new shell, first load this deployment's environment, then trigger an ingest run:"
echo ""
echo "  export AIRFLOW_HOME=$AIRFLOW_HOME"
echo "  set -a; . \"\$AIRFLOW_HOME/newsflow.env\"; set +a"
echo "  airflow dags trigger newsflow_ingest"
echo ""
wait -n "${PIDS[@]}" || true
echo "an Airflow component exited; stopping the others (see $LOGS)" >&2
