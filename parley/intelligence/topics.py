"""Topic discovery over conversations and assignment of new ones to the discovered topics.

Conversations are embedded (their customer messages), clustered with agglomerative clustering on
cosine distance (or HDBSCAN), and each cluster is described by c-TF-IDF keywords (BERTopic's class-based
TF-IDF: term frequency per cluster × log(1 + mean words per cluster / term frequency overall)).
A new conversation joins the topic whose centroid is closest, if closer than the topic's radius.
"""

from __future__ import annotations

import itertools
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from parley.intelligence.artefacts import Manifest

_TOKEN = re.compile(r"[a-zA-Z][a-zA-Z']+")
_STOP = frozenset(
    """
    a about above after again all am an and any are as at be because been before being below between both but
    by can could did do does doing don't down during each few for from further had has have having he her
    here hers him his how i i'm i've if in into is it it's its just me more most my no nor not now of off on
    once only or other our out over own please same she should so some such than thank thanks that the their
    them then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your hi hello hey yes get got want need like know also still
    one would im ive dont cant can't let us
    """.split()  # noqa: SIM905
)
UNASSIGNED = -1


@dataclass
class Topic:
    id: int
    label: str
    keywords: list[str]
    size: int
    examples: list[str]
    radius: float  # cosine distance within which a new text joins this topic


def _tokens(text: str) -> list[str]:
    return [t for t in (m.lower().strip("'") for m in _TOKEN.findall(text)) if t not in _STOP and len(t) > 2]


def ctfidf_keywords(docs_per_topic: dict[int, list[str]], top_n: int = 8) -> dict[int, list[str]]:
    """Top c-TF-IDF words (and bigrams) of each topic."""
    counts: dict[int, Counter[str]] = {}
    for topic, docs in docs_per_topic.items():
        counter: Counter[str] = Counter()
        for doc in docs:
            tokens = _tokens(doc)
            counter.update(tokens)
            counter.update(f"{a} {b}" for a, b in itertools.pairwise(tokens))
        counts[topic] = counter
    overall: Counter[str] = Counter()
    for counter in counts.values():
        overall.update(counter)
    avg_words = np.mean([sum(c.values()) for c in counts.values()]) if counts else 1.0
    keywords: dict[int, list[str]] = {}
    for topic, counter in counts.items():
        total = sum(counter.values()) or 1
        scored = {
            term: (count / total) * np.log(1 + avg_words / overall[term]) * (1.15 if " " in term else 1.0)
            for term, count in counter.items()
            if count >= 2 or len(counter) < 20
        }
        ranked = sorted(scored, key=lambda term: -scored[term])
        chosen: list[str] = []
        for term in ranked:
            if any(term in other or other in term for other in chosen):
                continue
            chosen.append(term)
            if len(chosen) == top_n:
                break
        keywords[topic] = chosen
    return keywords


class TopicModel:
    """Discovered topics with their centroids (unit vectors)."""

    def __init__(self, topics: list[Topic], centroids: np.ndarray) -> None:
        self.topics = topics
        self.centroids = centroids

    @classmethod
    def discover(
        cls,
        texts: list[str],
        embeddings: np.ndarray,
        *,
        method: str = "agglomerative",
        distance_threshold: float = 0.55,
        min_size: int = 3,
        n_examples: int = 3,
    ) -> TopicModel:
        """Cluster ``texts`` into topics.

        Args:
            texts: one text per conversation (e.g. its customer messages joined).
            embeddings: their unit-normalised embeddings.
            method: ``agglomerative`` (average linkage, cosine, cut at ``distance_threshold``) or ``hdbscan``.
            distance_threshold: cosine distance at which agglomerative merging stops.
            min_size: smaller clusters are left unassigned.
            n_examples: examples kept per topic (closest to the centroid).
        """
        if len(texts) < 2:
            raise ValueError("topic discovery needs at least two conversations")
        if method == "hdbscan":
            from sklearn.cluster import HDBSCAN

            assignments = HDBSCAN(min_cluster_size=max(2, min_size), metric="cosine").fit_predict(embeddings)
        elif method == "agglomerative":
            from sklearn.cluster import AgglomerativeClustering

            assignments = AgglomerativeClustering(
                n_clusters=None, metric="cosine", linkage="average", distance_threshold=distance_threshold
            ).fit_predict(embeddings)
        else:
            raise ValueError(f"unknown clustering method {method!r}")
        sizes = Counter(int(a) for a in assignments if a >= 0)
        kept = [cluster for cluster, size in sizes.most_common() if size >= min_size]
        docs = {new: [texts[i] for i in np.flatnonzero(assignments == old)] for new, old in enumerate(kept)}
        keywords = ctfidf_keywords(docs)
        topics: list[Topic] = []
        centroids = []
        for new, old in enumerate(kept):
            members = np.flatnonzero(assignments == old)
            centroid = embeddings[members].mean(axis=0)
            centroid /= np.linalg.norm(centroid) or 1.0
            distances = 1 - embeddings[members] @ centroid
            closest = members[np.argsort(distances)[:n_examples]]
            words = keywords.get(new, [])
            topics.append(
                Topic(
                    id=new,
                    label=", ".join(words[:3]) or f"topic {new}",
                    keywords=words,
                    size=len(members),
                    examples=[texts[i] for i in closest],
                    radius=float(np.quantile(distances, 0.95)) + 0.05,
                )
            )
            centroids.append(centroid)
        return cls(topics, np.asarray(centroids, dtype=np.float32).reshape(len(topics), embeddings.shape[1]))

    def assign(self, embeddings: np.ndarray) -> list[tuple[int, float]]:
        """(topic id or -1, cosine similarity) for each embedded text."""
        if not self.topics or len(embeddings) == 0:
            return [(UNASSIGNED, 0.0)] * len(embeddings)
        similarity = embeddings @ self.centroids.T
        out = []
        for row in similarity:
            best = int(np.argmax(row))
            inside = 1 - row[best] <= self.topics[best].radius
            out.append((self.topics[best].id if inside else UNASSIGNED, float(row[best])))
        return out

    def save(self, directory: Path, manifest: Manifest) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        np.save(directory / "centroids.npy", self.centroids)
        (directory / "topics.json").write_text(
            json.dumps([asdict(t) for t in self.topics], indent=2, ensure_ascii=False), encoding="utf-8"
        )
        manifest.write(directory)

    @classmethod
    def load(cls, directory: Path) -> TopicModel:
        topics = [Topic(**item) for item in json.loads((directory / "topics.json").read_text(encoding="utf-8"))]
        return cls(topics, np.load(directory / "centroids.npy"))

    def describe(self) -> list[dict[str, Any]]:
        return [asdict(topic) for topic in self.topics]


def conversation_text(turns: list[tuple[str, str]], max_chars: int = 1000) -> str:
    """The text a conversation is clustered by: its customer messages, joined (``turns`` = (speaker, text))."""
    customer = [text for speaker, text in turns if speaker == "customer"]
    return " ".join(customer or [text for _, text in turns])[:max_chars]
