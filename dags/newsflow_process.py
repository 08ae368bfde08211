"""
### newsflow_process

Runs whenever `newsflow_ingest` publishes new article batches (asset
**`x-newsflow://lake/articles`**): `dedup` (exact, near-duplicate and translation
clusters over the lake) -> `load_warehouse` (idempotent merge of new batches and the
latest dedup generation) -> `refresh_related` (related-article lists), which emits
**`x-newsflow://warehouse/articles`** (with counts) for whatever reads the warehouse
downstream.  `record_metrics`, a teardown task (it runs even when a stage failed and
does not decide the run's state), loads the run-metrics records that task callbacks
buffered in the lake into the warehouse table `run_metrics`.

* Every stage reads the previous stage's durable output, so clearing any task and
  rerunning it is safe.  `max_active_runs=1`: the DuckDB warehouse has one writer.
* Asset-triggered DAGs cannot be backfilled; to reprocess history use the
  date-scheduled `newsflow_reprocess` DAG (`airflow backfill create --dag-id
  newsflow_reprocess --from-date ... --to-date ...`).
* Retries: 3 with exponential backoff (1 min doubling, at most 20 min); 1 h timeout.
* Settings come from the `newsflow_lake` / `newsflow_warehouse` connections when
  defined, else from `NEWSFLOW_*` env vars (see `plugins/newsflow_airflow`).
* Optional lake-drop trigger: with `NEWSFLOW_SQS_QUEUE_URL` set, an `AssetWatcher`
  (triggerer, `MessageQueueTrigger(scheme="sqs")`, connection `NEWSFLOW_SQS_CONN_ID`,
  default `newsflow_lake`) on the queue fed by the lake bucket's object-created
  notifications also triggers this DAG (asset `x-newsflow://lake/drops`).
* Feed/page rejects are counted in the ingest asset events and kept in the lake by the
  ingest stage; `load_warehouse` merges them into the `rejects` table.
"""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, AssetWatcher, dag, task
from newsflow_dag_args import default_args

log = logging.getLogger(__name__)

# The x- scheme prefix tells Airflow this URI has no provider normalizer; without it,
# building the Asset loads every provider's URI handlers at parse time (0.6 s, boto3).
# Must match the outlet of newsflow_ingest.py (checked by tests/dags).
ARTICLES = Asset("newsflow-articles", uri="x-newsflow://lake/articles")
WAREHOUSE = Asset("newsflow-warehouse", uri="x-newsflow://warehouse/articles")


def _schedule() -> Any:
    """The ingest asset, or (when ``NEWSFLOW_SQS_QUEUE_URL`` is set) it OR lake drops.

    Lake drops: another system writes a committed batch into the lake; the bucket's
    object-created notifications (filtered to ``<prefix>/tables/articles/_delta_log/*.json``: one per commit)
    go to an SQS queue that an ``AssetWatcher`` in the triggerer polls.  The provider
    import happens only when the queue is configured, so the default parse stays light.
    """
    queue = os.environ.get("NEWSFLOW_SQS_QUEUE_URL", "").strip()
    if not queue:
        return [ARTICLES]
    from airflow.providers.common.messaging.triggers.msg_queue import MessageQueueTrigger

    trigger = MessageQueueTrigger(
        scheme="sqs",
        sqs_queue=queue,
        aws_conn_id=os.environ.get("NEWSFLOW_SQS_CONN_ID", "newsflow_lake"),
        waiter_delay=int(os.environ.get("NEWSFLOW_SQS_POLL_SECONDS", "30")),
        max_messages=10,
        # S3 also sends an s3:TestEvent without Records when notifications are set up
        message_filtering="jsonpath",
        message_filtering_config="Records[*].eventSource",
        message_filtering_match_values=["aws:s3"],
    )
    drops = Asset("newsflow-lake-drops", uri="x-newsflow://lake/drops",
                  watchers=[AssetWatcher(name="newsflow_lake_drops_sqs", trigger=trigger)])
    return ARTICLES | drops

DEFAULT_ARGS = default_args(execution_timeout=timedelta(hours=1))


@dag(
    dag_id="newsflow_process",
    schedule=_schedule(),
    start_date=datetime(2025, 1, 1, tzinfo=UTC),
    catchup=False,
    is_paused_upon_creation=False,  # runs once the DAG is loaded (docs/airflow.md "Pause policy")
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["newsflow", "dedup", "warehouse"],
    doc_md=__doc__,
)
def newsflow_process() -> None:
    # The bodies live in newsflow_airflow.tasks, shared with newsflow_reprocess.
    @task
    def dedup() -> dict[str, Any]:
        """Cluster every committed article into stories; write a dedup generation."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import tasks

        _log_triggers(get_current_context())
        return tasks.dedup()

    @task
    def load_warehouse(dedup_result: dict[str, Any]) -> dict[str, Any]:
        """Merge new lake batches and the latest dedup generation into the warehouse."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import run_ts_from_context, tasks

        return tasks.load_warehouse(dedup_result, run_ts=run_ts_from_context(get_current_context()))

    @task(outlets=[WAREHOUSE])
    def refresh_related(load_result: dict[str, Any]) -> dict[str, Any]:
        """Recompute related-article lists for story canonicals; publish the warehouse asset."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import tasks

        return tasks.refresh_related(load_result, get_current_context(), WAREHOUSE)

    @task(execution_timeout=timedelta(minutes=10))
    def record_metrics() -> dict[str, Any]:
        """Load buffered run-metrics records into ``run_metrics`` (the one warehouse writer now)."""
        from airflow.sdk import get_current_context
        from newsflow_airflow import run_ts_from_context, tasks

        return tasks.record_metrics(run_ts_from_context(get_current_context()))

    refresh_related(load_warehouse(dedup())) >> record_metrics().as_teardown()


def _log_triggers(context: Any) -> None:
    """Log what the triggering ingest events reported (several shards may have fired)."""
    events = context.get("triggering_asset_events") or {}
    for asset, asset_events in events.items():
        for event in asset_events:
            extra = getattr(event, "extra", None) or {}
            if "Records" in str(extra):  # an S3 notification via the SQS watcher
                log.info("triggered by %s: lake drop event %s", getattr(asset, "uri", asset), str(extra)[:500])
                continue
            log.info("triggered by %s: articles_new=%s rejects=%s batches=%s", getattr(asset, "uri", asset),
                     extra.get("articles_new"), extra.get("rejects"), extra.get("batches"))


newsflow_process()
