"""What a user would pick instead of an LLM: the majority class, and TF-IDF + logistic regression."""
from __future__ import annotations

from collections import Counter

import pandas as pd


class Majority:
    def fit(self, texts, labels):
        self.label = Counter(labels).most_common(1)[0][0]
        return self

    def predict(self, texts):
        return [self.label] * len(texts)


class TfidfLogReg:
    """Word and character n-grams (robust to Hinglish spellings), trained on the train split's patient queries."""

    def fit(self, texts, labels, seed: int = 0):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, make_pipeline

        features = FeatureUnion([("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)),
                                 ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True))])
        self.model = make_pipeline(features, LogisticRegression(max_iter=2000, C=10.0, random_state=seed))
        self.model.fit(list(texts), list(labels))
        return self

    def predict(self, texts):
        return list(self.model.predict(list(texts)))

    def score(self, texts, labels) -> float:
        """Accuracy on labelled texts."""
        return float((pd.Series(self.predict(texts)) == pd.Series(list(labels))).mean())
