"""Registers newsflow with Airflow's plugin manager so ``airflow plugins`` shows it.

Why a plugin at all: it makes a missing or stale plugins folder visible on every
component (scheduler, API server, workers).  The useful code is the regular package
``newsflow_airflow`` next to this file, which tasks import from ``sys.path``.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin


class NewsflowPlugin(AirflowPlugin):
    name = "newsflow"
