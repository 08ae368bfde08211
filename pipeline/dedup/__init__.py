"""Republished copies and translations: exact, near-duplicate, translation, stories.

Public API (the orchestrator, CLI and DAGs call only these)::

    find_duplicates(articles, settings, encoder=None) -> DedupResult
    explain_pair(a, b, settings, encoder=None) -> dict
"""

from pipeline.dedup.engine import DedupResult, explain_pair, find_duplicates

__all__ = ["DedupResult", "explain_pair", "find_duplicates"]
