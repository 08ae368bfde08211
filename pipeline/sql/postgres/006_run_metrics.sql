-- Run metrics of the Airflow DAGs (issue 8): one row per task try, written by the
-- record_metrics task from the metric records that task callbacks buffer in the lake.
CREATE TABLE IF NOT EXISTS run_metrics (
    dag_id       TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    map_index    INTEGER NOT NULL,
    try_number   INTEGER NOT NULL,
    state        TEXT NOT NULL,
    hostname     TEXT,
    started_at   TIMESTAMPTZ,
    ended_at     TIMESTAMPTZ,
    duration_s   DOUBLE PRECISION,
    label        TEXT,
    counts       JSONB,
    error        TEXT,
    recorded_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (dag_id, run_id, task_id, map_index, try_number)
);
CREATE INDEX IF NOT EXISTS run_metrics_dag_run ON run_metrics (dag_id, run_id);
