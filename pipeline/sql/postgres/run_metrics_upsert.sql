-- One task try's metrics (issue 8); a re-flushed record replaces itself.
INSERT INTO run_metrics (dag_id, run_id, task_id, map_index, try_number, state, hostname,
                         started_at, ended_at, duration_s, label, counts, error, recorded_at)
VALUES (%(dag_id)s, %(run_id)s, %(task_id)s, %(map_index)s, %(try_number)s, %(state)s, %(hostname)s,
        %(started_at)s, %(ended_at)s, %(duration_s)s, %(label)s, %(counts)s::jsonb, %(error)s, %(recorded_at)s)
ON CONFLICT (dag_id, run_id, task_id, map_index, try_number) DO UPDATE SET
    state = excluded.state, hostname = excluded.hostname, started_at = excluded.started_at,
    ended_at = excluded.ended_at, duration_s = excluded.duration_s, label = excluded.label,
    counts = excluded.counts, error = excluded.error, recorded_at = excluded.recorded_at;
