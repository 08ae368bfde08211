-- Run metrics of the Airflow DAGs (issue 8): one row per task try, written by the
-- record_metrics task from the metric records that task callbacks buffer in the lake.
CREATE TABLE IF NOT EXISTS run_metrics (
    dag_id       VARCHAR NOT NULL,
    run_id       VARCHAR NOT NULL,
    task_id      VARCHAR NOT NULL,
    map_index    INTEGER NOT NULL,
    try_number   INTEGER NOT NULL,
    state        VARCHAR NOT NULL,
    hostname     VARCHAR,
    started_at   TIMESTAMPTZ,
    ended_at     TIMESTAMPTZ,
    duration_s   DOUBLE,
    label        VARCHAR,
    counts       JSON,
    error        VARCHAR,
    recorded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dag_id, run_id, task_id, map_index, try_number)
);
