"""TweetEval sentiment: ``<split>_text.txt`` / ``<split>_labels.txt`` line pairs and ``mapping.txt``.

Only splits whose text file exists are loaded (here the train texts are missing upstream).
"""

from __future__ import annotations

from pathlib import Path

from parley.intelligence.datasets.base import DatasetError, LabelledText, LoadResult, SchemaIssue, register

DEFAULT_MAPPING = {"0": "negative", "1": "neutral", "2": "positive"}


@register("tweeteval", "TweetEval sentiment folder (<split>_text.txt + <split>_labels.txt)")
def load(path: Path) -> LoadResult:
    folder = path if path.is_dir() else path.parent
    mapping = dict(DEFAULT_MAPPING)
    if (folder / "mapping.txt").is_file():
        for line in (folder / "mapping.txt").read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) == 2:
                mapping[parts[0].strip()] = parts[1].strip()
    text_files = sorted(folder.glob("*_text.txt")) if path.is_dir() else [path]
    if not text_files:
        raise DatasetError(f"no <split>_text.txt in {folder}")
    result = LoadResult(format="tweeteval", path=str(path))
    for text_file in text_files:
        split = text_file.name.removesuffix("_text.txt")
        labels_file = folder / f"{split}_labels.txt"
        if not labels_file.is_file():
            raise DatasetError(f"{labels_file.name} is missing for {text_file.name}")
        texts = text_file.read_text(encoding="utf-8").split("\n")
        labels = labels_file.read_text(encoding="utf-8").split("\n")
        texts, labels = texts[: len(texts) - (texts[-1] == "")], labels[: len(labels) - (labels[-1] == "")]
        if len(texts) != len(labels):
            raise DatasetError(f"{text_file.name} has {len(texts)} lines but {labels_file.name} has {len(labels)}")
        for number, (text, label) in enumerate(zip(texts, labels, strict=True), start=1):
            result.rows_read += 1
            name = mapping.get(label.strip())
            if name is None or not text.strip():
                result.issues.append(SchemaIssue(number, f"{split}: empty text or unknown label {label!r}"))
                continue
            result.texts.append(LabelledText(text.strip(), name, split="val" if split == "val" else split))
    return result
