#!/usr/bin/env bash
# One-time setup of a newsflow Celery deployment (run with the deployment's environment).
# Connections: the lake on S3 (aws type, endpoint_url for S3-compatible stores) and the
# warehouse on PostgreSQL.  Replace the placeholders or use a secrets backend instead.
set -euo pipefail
airflow db migrate
airflow pools set newsflow_fetch "${FETCH_POOL_SLOTS:-8}" "newsflow feed/page fetching"
airflow connections add newsflow_lake --conn-type aws \
  --conn-login "${LAKE_ACCESS_KEY:?}" --conn-password "${LAKE_SECRET_KEY:?}" \
  --conn-extra "{\"endpoint_url\": \"${LAKE_ENDPOINT_URL:-}\", \"region_name\": \"${LAKE_REGION:-us-east-1}\", \"bucket\": \"${LAKE_BUCKET:?}\", \"prefix\": \"${LAKE_PREFIX:-lake}\"}"
airflow connections add newsflow_warehouse --conn-type postgres \
  --conn-host "${WAREHOUSE_HOST:?}" --conn-port "${WAREHOUSE_PORT:-5432}" \
  --conn-login "${WAREHOUSE_USER:?}" --conn-password "${WAREHOUSE_PASSWORD:?}" --conn-schema "${WAREHOUSE_DB:-newsflow}"
# start the components (one per host or container):
#   airflow api-server | airflow scheduler | airflow dag-processor | airflow triggerer
#   airflow celery worker --celery-hostname "worker-$(hostname)@%h" --queues default
