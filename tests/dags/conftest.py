"""Shared setup for the Airflow front-door tests.

Airflow reads its configuration when it is first imported, so the environment has to
be right before any test module imports it: a throwaway ``AIRFLOW_HOME`` (never the
user's ``~/airflow``), no example DAGs, and this repo's ``dags/`` and ``plugins/``.
The plugins folder also goes on ``sys.path``, the way Airflow puts it there for tasks.
"""

from __future__ import annotations

import os
import sys

from tests.dags._helpers import PLUGINS, airflow_env

for _key, _value in airflow_env().items():
    if _key.startswith("AIRFLOW"):
        os.environ[_key] = _value
if str(PLUGINS) not in sys.path:
    sys.path.append(str(PLUGINS))
