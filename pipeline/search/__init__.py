"""Full-text search through a dedicated engine (tantivy): analysis, index, sync, publishing.

``analysis`` turns text into index terms per language group, ``index`` holds and queries
the tantivy index, ``sync`` keeps it in step with the warehouse's load ledger, ``publish``
shares committed versions through the lake's object store.  docs/warehouse.md#search.
"""
