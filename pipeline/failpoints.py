"""Named crash points for the fault-injection tests (``tests/integration/test_faults.py``).

``NEWSFLOW_FAILPOINT=<name>`` makes the process ``SIGKILL`` itself the first time it passes
``failpoint("<name>")``; ``<name>:<n>`` kills it on the n-th pass (e.g. ``mid_load:2``: after
the second batch is merged).  Deterministic, no timers: the tests name a moment in the run
and check that a normal rerun converges to the warehouse of a clean run.  Unset (always in
production), a failpoint is one environment lookup.

Other actions, ``<name>[:<n>]=<action>``:

* ``kill`` (default): ``SIGKILL``, the ``kill -9`` of the issue;
* ``stop``: ``SIGSTOP``, so the test can take a service away (stop the object store,
  terminate the database session) at exactly this moment and then ``SIGCONT`` the run;
* ``enospc``: raise ``OSError(ENOSPC)``, what a full disk raises on the next write.

Where they sit, in run order (``newsflow run``):

===================  ==========================================================
``after_data_files``  a new batch's Parquet file is in the table folder, its Delta commit is not
``before_commit``     just before the batch's Delta commit (``pipeline.lake.tables.write``)
``after_commit``      the articles batch is committed, feed states not yet saved
``after_feed_state``  feed states are saved (ingest done)
``mid_dedup``         one article batch's dedup edges are written, not the generation
``mid_load``          one article batch is merged into the warehouse, not the rest
``before_index_commit``  the warehouse load committed, the search index's commit not yet made
``mid_related``       related lists are computed, not yet stored
``before_compact_swap``  ``newsflow warehouse compact``: the new file is written, not yet renamed over the old
===================  ==========================================================
"""

from __future__ import annotations

import errno
import os
import signal
import threading

ENV = "NEWSFLOW_FAILPOINT"
_hits: dict[str, int] = {}
_guard = threading.Lock()


def failpoint(name: str) -> None:
    """Kill this process with SIGKILL when ``NEWSFLOW_FAILPOINT`` names this point (and pass)."""
    wanted = os.environ.get(ENV)
    if not wanted:
        return
    spec, _, action = wanted.partition("=")
    point, _, nth = spec.partition(":")
    if point != name:
        return
    with _guard:
        _hits[name] = _hits.get(name, 0) + 1
        hit = _hits[name]
    if hit != int(nth or 1):
        return
    if action == "stop":
        os.kill(os.getpid(), signal.SIGSTOP)
    elif action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"<failpoint {name}>")
    else:
        os.kill(os.getpid(), signal.SIGKILL)
