"""``[core] hostname_callable`` for several workers on one host (or in look-alike pods).

Airflow records each task instance's ``hostname`` from this callable (default: the FQDN).
Two Celery workers on one machine would both report the machine's name, so neither the
UI nor ``run_metrics`` could tell which worker ran a shard.  Set
``AIRFLOW__CORE__HOSTNAME_CALLABLE=newsflow_airflow.hostname.worker_hostname`` and give
each worker ``NEWSFLOW_WORKER_NAME`` (e.g. the same value as its ``--celery-hostname``);
without the variable the FQDN is used, as by default.  Note: the UI fetches live logs of
a running task from ``http://<hostname>:8793``, so use a resolvable name when the workers
serve logs over the network (remote logging does not care).
"""

from __future__ import annotations

import os
import socket


def worker_hostname() -> str:
    """``NEWSFLOW_WORKER_NAME`` when set, else the fully qualified domain name."""
    return os.environ.get("NEWSFLOW_WORKER_NAME", "").strip() or socket.getfqdn()
