"""Republished copies and translations: exact, near-duplicate, translation, stories.

Public API (the orchestrator, CLI and DAGs call only these)::

    find_duplicates(articles, settings, encoder=None) -> DedupResult   # in memory
    explain_pair(a, b, settings, encoder=None) -> dict
    pipeline.dedup.stage.dedup(settings, *, store=None) -> DedupReport  # incremental, lake

Modules: ``index`` (per-article matching material, persisted), ``match`` (candidates
from indexes + verification, new batch vs known), ``verify`` (pair measures and the
decision rule), ``cluster`` (guarded stories), ``encoder`` (pluggable encoders),
``evaluate`` (``newsflow eval dedup``).  See docs/dedup.md.
"""

from pipeline.dedup.engine import DedupResult, explain_pair, find_duplicates

__all__ = ["DedupResult", "explain_pair", "find_duplicates"]
