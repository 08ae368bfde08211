"""The optional event source, for real on loopback: another system drops a committed batch
into the S3 lake (moto's S3 server), the bucket's object-created notification lands in an
SQS queue (the same moto server), the ``AssetWatcher`` in the real triggerer picks it up,
and ``newsflow_process`` runs by itself and loads the batch into the warehouse.

The lake and the SQS client both use the ``newsflow_lake`` Airflow connection (aws type
with ``endpoint_url``), so this also exercises Connections -> Settings at task run time.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import yaml

from tests.conftest import need
from tests.dags._scenario import EXAMPLES, warehouse_articles
from tests.dags._stack import AirflowStack, postgres_available

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUCKET = "newsflow-drops-test"
PREFIX = "lake"


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, s3_server):
    need(postgres_available(), "PostgreSQL at 127.0.0.1:5432 (user postgres) for the Airflow metadata DB")
    import boto3

    from pipeline.config import Settings
    from pipeline.demo_server import DemoServer
    from pipeline.feeds.registry import load_feeds
    from pipeline.ingest import ingest

    s3 = boto3.client("s3", endpoint_url=s3_server, region_name="us-east-1")
    sqs = boto3.client("sqs", endpoint_url=s3_server, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    queue_url = sqs.create_queue(QueueName=f"newsflow-drops-{int(time.time())}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration={"QueueConfigurations": [{
        "QueueArn": queue_arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": f"{PREFIX}/tables/articles/_delta_log/"},
                                           {"Name": "suffix", "Value": ".json"}]}}}]})

    root = tmp_path_factory.mktemp("airflow-sqs")
    conn = {"conn_type": "aws", "login": "testing", "password": "testing",
            "extra": {"endpoint_url": s3_server, "region_name": "us-east-1", "bucket": BUCKET, "prefix": PREFIX}}
    env = {
        "AIRFLOW_CONN_NEWSFLOW_LAKE": json.dumps(conn),
        "NEWSFLOW_WAREHOUSE": f"duckdb:///{root / 'warehouse.duckdb'}",
        "NEWSFLOW_SQS_QUEUE_URL": queue_url,
        "NEWSFLOW_SQS_POLL_SECONDS": "1",
        "NEWSFLOW_FEEDS_FILE": str(EXAMPLES / "feeds.yaml"),
    }
    t0 = time.perf_counter()
    with AirflowStack(root, executor="LocalExecutor", extra_env=env) as stack:
        stack.wait_for(lambda: stack.query("SELECT 1 FROM trigger WHERE classpath LIKE %s", ("%Sqs%",)), 180,
                       "the triggerer to run the SQS AssetWatcher")
        t_watch = time.perf_counter() - t0
        # "another system": a plain newsflow ingest writing a committed batch into the S3 lake
        with DemoServer(EXAMPLES / "sites", port=0) as server:
            settings = Settings.load(lake=f"s3://{BUCKET}/{PREFIX}", s3_endpoint_url=s3_server,
                                     aws_access_key_id="testing", aws_secret_access_key="testing",
                                     resolve=server.resolve_setting, allow_private_networks=True)
            report = ingest(settings, load_feeds(str(EXAMPLES / "feeds.yaml")),
                            run_ts=datetime(2025, 10, 1, 12, tzinfo=UTC))
        t_drop = time.perf_counter()

        def process_done():
            stack.check_alive()
            trigger_log = (stack.logs / "triggerer.log").read_text(errors="replace")
            if "exited with error" in trigger_log:  # fail now, not after the timeout
                raise AssertionError(f"the SQS watcher failed:\n{trigger_log[-4000:]}")
            runs = stack.dag_runs("newsflow_process")
            return runs and all(s in ("success", "failed") for _, s, _ in runs) and runs

        runs = stack.wait_for(process_done, 420, "the SQS-triggered process run to finish")
        events = stack.query(
            "SELECT a.uri, e.extra::text FROM asset_event e JOIN asset a ON a.id = e.asset_id ORDER BY e.id")
        tis = stack.task_instances("newsflow_process")
        timings = {**stack.timings, "watcher_running_s": t_watch, "drop_to_process_done_s": time.perf_counter() - t_drop}
    timings["total_s"] = time.perf_counter() - t0
    print("\nairflow SQS watcher timings:", {k: round(v, 1) for k, v in timings.items()})
    return {"report": report, "runs": runs, "events": events, "tis": tis, "root": root}


def test_a_lake_drop_triggers_the_process_dag_through_sqs(deployment) -> None:
    runs = deployment["runs"]
    assert runs and {rt for _, _, rt in runs} == {"asset_triggered"}
    assert {s for _, s, _ in runs} == {"success"}, deployment["tis"]
    uris = {uri for uri, _ in deployment["events"]}
    assert "x-newsflow://lake/drops" in uris
    assert "x-newsflow://lake/articles" not in uris  # nothing but the drop triggered it
    drop_extras = [extra for uri, extra in deployment["events"] if uri == "x-newsflow://lake/drops"]
    print("lake drop event extras:", [e[:300] for e in drop_extras])
    assert drop_extras


def test_the_dropped_batch_reached_the_warehouse(deployment) -> None:
    expected = yaml.safe_load((EXAMPLES / "expected.yaml").read_text(encoding="utf-8"))
    assert deployment["report"].articles_new == len(expected["articles"])
    articles, related = warehouse_articles(deployment["root"] / "warehouse.duckdb")
    assert articles == len(expected["articles"]) and related > 0
