"""Name resolution: free text (a model's condition line, an external label, a user's words) to one of the run's
canonical disease keys, through the disease's key, display and source names and the aliases in
``data/knowledge/disease_aliases.yaml``."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from . import knowledge


def normalise(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9]+", " ", str(text).lower()).split())


class DiseaseNames:
    """Maps free text (a model's condition line, an external label) to one of the canonical disease keys."""

    def __init__(self, diseases: pd.DataFrame, extra: dict | None = None):
        extra = extra if extra is not None else knowledge.load("disease_aliases.yaml")["aliases"]
        self.table: dict[str, str] = {}
        for r in diseases.itertuples():
            for name in (r.key, r.key.replace("_", " "), r.display_name, r.source_name, *extra.get(r.key, [])):
                self.table.setdefault(normalise(name), r.key)
        # longest first, so "hepatitis b" wins over "hepatitis", "common cold" over "cold"
        self._by_length = sorted(self.table, key=len, reverse=True)
        self.precautions: dict[str, list[str]] = (
            {r.key: [str(x) for x in r.precautions] for r in diseases.itertuples()}
            if "precautions" in diseases.columns else {})

    def key(self, text) -> str | None:
        if text is None or (isinstance(text, float) and np.isnan(text)):
            return None
        t = normalise(text)
        if t in self.table:
            return self.table[t]
        padded = f" {t} "
        for alias in self._by_length:
            if f" {alias} " in padded:
                return self.table[alias]
        return None

    def map_labels(self, labels) -> tuple[dict, list]:
        """{label: key} for every distinct label, and the labels that map to nothing (reported, not dropped)."""
        mapping = {lab: self.key(lab) for lab in sorted(set(labels))}
        return mapping, [lab for lab, k in mapping.items() if k is None]
