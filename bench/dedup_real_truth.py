"""The ground truth of the headline dedup benchmark's corpus: which article is a planted
copy of which, which pairs are hard negatives, and the delay classes copies are drawn from.

Split from ``bench/dedup_real_corpus.py`` (the generator) so the benchmark's scoring reads
one small data model.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field

from pipeline.models import Article

# delay of a copy after its source: (share, min days, max days)
DELAYS = {"hours": (0.55, 0.04, 2.0), "weeks": (0.25, 2.0, 45.0), "months": (0.12, 45.0, 400.0),
          "years": (0.08, 400.0, 1500.0)}


@dataclass
class Plant:
    kind: str  # exact | near | translation
    detail: str  # near: edited_lead...; translation: full/abridged/lead/middle and langs
    copy: str
    source: str
    delay_days: float


@dataclass
class HardNegative:
    kind: str  # same_event | same_event_cross | template
    a: str
    b: str


@dataclass
class Corpus:
    articles: list[Article]
    plants: list[Plant]
    negatives: list[HardNegative]
    root: dict[str, str]  # article id -> id of the original its story grew from
    keys: dict[str, list[str]] = field(default_factory=dict)  # article id -> pool sentences used

    def fingerprint(self) -> str:
        """One hash over every article and the ground truth (the determinism test)."""
        h = hashlib.sha256()
        for a in self.articles:
            h.update(f"{a.article_id}|{a.language}|{a.published_at.isoformat()}|{a.body_text}\n".encode())
        h.update(json.dumps(self.truth(), sort_keys=True).encode())
        return h.hexdigest()

    def head(self, n: int) -> Corpus:
        """The first ``n`` articles and the ground truth among them (the known part)."""
        ids = {a.article_id for a in self.articles[:n]}
        return Corpus(self.articles[:n], [p for p in self.plants if p.copy in ids],
                      [x for x in self.negatives if x.b in ids], {k: v for k, v in self.root.items() if k in ids},
                      {k: v for k, v in self.keys.items() if k in ids})

    def truth(self) -> dict:
        return {"root": self.root, "keys": self.keys,
                "plants": [vars(p) for p in self.plants],
                "negatives": [vars(x) for x in self.negatives]}

    def stats(self) -> dict:
        langs = Counter(a.language for a in self.articles)
        n = len(self.articles) or 1
        return {"articles": len(self.articles),
                "language_share": {k: round(v / n, 3) for k, v in langs.most_common()},
                "mean_body_chars": round(sum(len(a.body_text) for a in self.articles) / n),
                "plants": dict(Counter(p.kind for p in self.plants)),
                "plants_detail": dict(Counter(f"{p.kind}:{p.detail}" for p in self.plants)),
                "hard_negatives": dict(Counter(x.kind for x in self.negatives)),
                "delays": dict(Counter(_delay_class(p.delay_days) for p in self.plants))}


def _delay_class(days: float) -> str:
    """The DELAYS class a measured delay falls in (the nearest source may be nearer)."""
    for name, (_, _lo, hi) in DELAYS.items():
        if days < hi:
            return name
    return "years"
