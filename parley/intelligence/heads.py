"""Linear classification heads over sentence embeddings (optionally plus TF-IDF n-grams).

Trained with scikit-learn, stored as plain arrays (``head.npz`` + ``tfidf.json``) so loading never
unpickles anything, and applied with numpy at prediction time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return np.asarray(exp / exp.sum(axis=1, keepdims=True), dtype=np.float32)


@dataclass
class TfidfFeatures:
    """A fitted word + character n-gram TF-IDF, rebuilt from its vocabulary and idf weights."""

    word_vocab: dict[str, int]
    word_idf: np.ndarray
    char_vocab: dict[str, int]
    char_idf: np.ndarray
    weight: float = 1.0

    @classmethod
    def fit(cls, texts: list[str], *, weight: float = 1.0) -> TfidfFeatures:
        word = _word_vectorizer().fit(texts)
        char = _char_vectorizer().fit(texts)
        return cls(
            word_vocab={k: int(v) for k, v in word.vocabulary_.items()},
            word_idf=np.asarray(word.idf_, dtype=np.float32),
            char_vocab={k: int(v) for k, v in char.vocabulary_.items()},
            char_idf=np.asarray(char.idf_, dtype=np.float32),
            weight=weight,
        )

    def transform(self, texts: list[str]) -> Any:
        """The weighted ``[word | char]`` TF-IDF rows of ``texts`` (float32 CSR), as scikit-learn computes them.

        Sublinear term frequency times idf, each block L2-normalised, scaled by ``weight / sqrt(2)``.
        Done here rather than by the vectorizers: for one short message their input validation costs
        milliseconds, this costs microseconds.
        """
        from scipy import sparse

        scale = self.weight / math.sqrt(2)
        indptr: list[int] = [0]
        indices: list[int] = []
        values: list[float] = []
        for text in texts:
            word_grams, char_grams = ngrams(text)
            blocks = (
                (word_grams, self.word_vocab, self.word_idf, 0),
                (char_grams, self.char_vocab, self.char_idf, len(self.word_idf)),
            )
            for grams, vocab, idf, offset in blocks:
                counts: dict[int, int] = {}
                for gram in grams:
                    column = vocab.get(gram)
                    if column is not None:
                        counts[column] = counts.get(column, 0) + 1
                if not counts:
                    continue
                columns = sorted(counts)
                weights = [(1.0 + math.log(counts[c])) * float(idf[c]) for c in columns]
                norm = math.sqrt(sum(w * w for w in weights)) or 1.0
                indices.extend(offset + c for c in columns)
                values.extend(w * scale / norm for w in weights)
            indptr.append(len(indices))
        return sparse.csr_matrix(
            (np.asarray(values, dtype=np.float32), np.asarray(indices, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
            shape=(len(texts), self.dimension()),
        )

    def dimension(self) -> int:
        return len(self.word_idf) + len(self.char_idf)

    def save(self, directory: Path) -> None:
        (directory / "tfidf.json").write_text(
            json.dumps({"word_vocab": self.word_vocab, "char_vocab": self.char_vocab, "weight": self.weight}), encoding="utf-8"
        )
        np.savez(directory / "tfidf_idf.npz", word_idf=self.word_idf, char_idf=self.char_idf)

    @classmethod
    def load(cls, directory: Path) -> TfidfFeatures | None:
        if not (directory / "tfidf.json").is_file():
            return None
        meta = json.loads((directory / "tfidf.json").read_text(encoding="utf-8"))
        arrays = np.load(directory / "tfidf_idf.npz")
        return cls(meta["word_vocab"], arrays["word_idf"], meta["char_vocab"], arrays["char_idf"], float(meta["weight"]))


@lru_cache(maxsize=1)
def _analysers() -> tuple[Any, Any]:
    return _word_vectorizer().build_analyzer(), _char_vectorizer().build_analyzer()


@lru_cache(maxsize=4096)
def ngrams(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The word 1–2-grams and character 2–5-grams of ``text`` as every TF-IDF block here sees them.

    Cached: the intent and the sentiment heads of the live pipeline read the same message, so it is
    tokenised once.
    """
    word, char = _analysers()
    return tuple(word(text)), tuple(char(text))


def _word_vectorizer(vocabulary: dict[str, int] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        ngram_range=(1, 2), min_df=1 if vocabulary else 2, sublinear_tf=True, lowercase=True, vocabulary=vocabulary
    )


def _char_vectorizer(vocabulary: dict[str, int] | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(
        analyzer="char_wb", ngram_range=(2, 5), min_df=1 if vocabulary else 2, sublinear_tf=True, vocabulary=vocabulary
    )


@dataclass
class LinearHead:
    """``softmax(features @ coef.T + intercept)`` over ``labels``."""

    labels: list[str]
    coef: np.ndarray
    intercept: np.ndarray
    tfidf: TfidfFeatures | None = None
    _transposed: tuple[np.ndarray, np.ndarray | None] | None = field(default=None, init=False, repr=False, compare=False)

    def features(self, embeddings: np.ndarray, texts: list[str] | None) -> Any:
        if self.tfidf is None:
            return embeddings
        from scipy import sparse

        if texts is None:
            raise ValueError("this head also needs the texts (it uses TF-IDF features)")
        return sparse.hstack([sparse.csr_matrix(embeddings), self.tfidf.transform(texts)]).tocsr()

    def _weights(self) -> tuple[np.ndarray, np.ndarray | None]:
        """The coefficients transposed once into contiguous (features, classes) blocks: dense, then TF-IDF."""
        if self._transposed is None:
            dim = self.coef.shape[1] - (self.tfidf.dimension() if self.tfidf is not None else 0)
            dense = np.ascontiguousarray(self.coef[:, :dim].T, dtype=np.float32)
            sparse_part = np.ascontiguousarray(self.coef[:, dim:].T, dtype=np.float32) if self.tfidf is not None else None
            self._transposed = (dense, sparse_part)
        return self._transposed

    def logits(self, embeddings: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        """Raw class scores (before the softmax)."""
        dense, sparse_part = self._weights()
        logits = np.asarray(embeddings, dtype=np.float32) @ dense + self.intercept
        if sparse_part is not None and self.tfidf is not None:
            if texts is None:
                raise ValueError("this head also needs the texts (it uses TF-IDF features)")
            logits = logits + np.asarray(self.tfidf.transform(texts) @ sparse_part)
        return np.asarray(logits, dtype=np.float32)

    def predict_proba(self, embeddings: np.ndarray, texts: list[str] | None = None) -> np.ndarray:
        if len(embeddings) == 0:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return softmax(self.logits(embeddings, texts))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.savez(directory / "head.npz", coef=self.coef.astype(np.float32), intercept=self.intercept.astype(np.float32))
        (directory / "labels.json").write_text(json.dumps(self.labels), encoding="utf-8")
        if self.tfidf is not None:
            self.tfidf.save(directory)

    @classmethod
    def load(cls, directory: Path) -> LinearHead:
        arrays = np.load(directory / "head.npz")
        labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        return cls(labels=labels, coef=arrays["coef"], intercept=arrays["intercept"], tfidf=TfidfFeatures.load(directory))

    @classmethod
    def fit(
        cls,
        embeddings: np.ndarray,
        labels: list[str],
        *,
        c: float = 10.0,
        texts: list[str] | None = None,
        tfidf_weight: float = 0.0,
        class_weight: str | None = None,
        seed: int = 0,
    ) -> LinearHead:
        """Fit a multinomial logistic regression.

        Args:
            embeddings: ``(n, d)`` sentence embeddings.
            labels: the class of each row.
            c: inverse regularisation strength.
            texts: the raw texts; needed when ``tfidf_weight`` > 0.
            tfidf_weight: > 0 adds word + character TF-IDF features with this weight.
            class_weight: ``"balanced"`` to reweight rare classes.
            seed: random state.
        """
        from sklearn.linear_model import LogisticRegression

        tfidf = TfidfFeatures.fit(texts or [], weight=tfidf_weight) if tfidf_weight > 0 else None
        head = cls(labels=[], coef=np.zeros(0), intercept=np.zeros(0), tfidf=tfidf)
        features = head.features(embeddings, texts)
        model = LogisticRegression(C=c, max_iter=2000, class_weight=class_weight, random_state=seed)
        model.fit(features, labels)
        classes = [str(label) for label in model.classes_]
        coef = np.asarray(model.coef_, dtype=np.float32)
        intercept = np.asarray(model.intercept_, dtype=np.float32)
        if len(classes) == 2:  # binary: sklearn returns one row; make it a two-class softmax
            coef = np.vstack([-coef / 2, coef / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
        head.labels, head.coef, head.intercept = classes, coef, intercept
        head._transposed = None
        return head
