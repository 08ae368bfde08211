"""Republished copies and translations: exact, near-duplicate, translation, stories.

Public API (the orchestrator, CLI and DAGs call only these)::

    find_duplicates(articles, settings, encoder=None) -> DedupResult   # in memory
    DedupResult.explain(a_id, b_id) -> dict                              # its decision
    explain_pair(a, b, settings, encoder=None, corpus=()) -> dict
    pipeline.dedup.stage.dedup(settings, *, store=None) -> DedupReport  # incremental, lake
    pipeline.dedup.explain.explain_stored(store, settings, a, b) -> dict  # lake decision

Modules: ``index`` (per-article matching material, persisted), ``match`` (candidate
indexes over the whole history), ``ann`` (per-language nearest vectors), ``align``
(in-order regions), ``verify`` (the one decision rule), ``cluster`` (specific, guarded
stories with stable ids), ``rules`` (fingerprints of settings and code), ``encoder``
(pluggable encoders), ``evaluate`` (``newsflow eval dedup``).  See docs/dedup.md.
"""

from pipeline.dedup.engine import DedupResult, explain_pair, find_duplicates

__all__ = ["DedupResult", "explain_pair", "find_duplicates"]
