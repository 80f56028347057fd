"""Intent model (b): MiniLM fine-tuned end to end with a classification head (HF transformers + torch).

Mean-pooled MiniLM token states → dropout → linear layer, cross-entropy, AdamW with linear warm-up/decay.
Early stopping on tuning-split accuracy (``patience`` epochs), the best epoch checkpointed to
``out/checkpoint`` and kept; ``max_seconds`` bounds the wall time (CPU boxes). Uses CUDA when present.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from parley.intelligence.artefacts import Manifest, data_fingerprint
from parley.intelligence.evaluation import intent_metrics
from parley.intelligence.heads import LinearHead
from parley.intelligence.intent import OOS_LABELS, calibrate_threshold

if TYPE_CHECKING:
    from parley.intelligence.training import Splits, TrainResult

DEFAULTS: dict[str, Any] = {
    "epochs": 4,
    "batch_size": 32,
    "learning_rate": 8e-5,
    "head_learning_rate": 2e-3,
    "patience": 1,
    "max_length": 48,
    "max_seconds": 1200.0,
    "warmup_ratio": 0.06,
    # batches are cut from length-sorted pools of ``bucket_batches`` batches (less padding), then shuffled
    "bucket_batches": 50,
    # torch intra-op threads (0 = torch's default); on a shared box one thread per training wastes less
    "threads": 0,
    # the classifier's logits are multiplied by this (the pooled embedding is unit length)
    "logit_scale": 20.0,
    # ensemble: P = (1 - we - wt) · fine-tuned + we · (frozen MiniLM embeddings → logistic regression, C =
    # embedding_c) + wt · (word + character TF-IDF → logistic regression, C = text_c); (we, wt) chosen on
    # the tuning split among these weights (all 0 = no extra head is fitted)
    "embedding_weights": [0.0, 0.2, 0.3, 0.4, 0.5],
    "text_weights": [0.0, 0.1, 0.2, 0.3],
    "embedding_c": 10.0,
    "text_c": 10.0,
}
TEXT_HEAD_DIR = "text_head"
EMBEDDING_HEAD_DIR = "embedding_head"


def length_buckets(lengths: list[int], batch_size: int, pool_batches: int, rng: np.random.Generator) -> list[list[int]]:
    """Training batches of similar lengths: shuffle, sort pools of ``pool_batches`` batches by length, cut, shuffle.

    Dynamic padding pads a batch to its longest text; grouping texts of similar length cuts the padded
    tokens (most of the compute on short support messages) while each epoch still sees a random order.
    """
    order = rng.permutation(len(lengths))
    pool = max(1, pool_batches) * batch_size
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool].tolist(), key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def _device() -> Any:
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _build(num_labels: int, encoder_dir: Path, logit_scale: float = 1.0) -> Any:
    import torch
    from transformers import AutoModel

    class MeanPoolClassifier(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = AutoModel.from_pretrained(str(encoder_dir), local_files_only=True)
            self.dropout = torch.nn.Dropout(0.1)
            self.classifier = torch.nn.Linear(self.encoder.config.hidden_size, num_labels)

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(states.dtype)
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1e-6)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            # a unit-length embedding gives logits of a few tenths: without a scale the softmax stays flat
            # and training crawls (cross-entropy 1.2 after three epochs); 20 makes confident logits reachable
            return self.classifier(self.dropout(pooled)) * logit_scale

    return MeanPoolClassifier()


class FinetunedIntentModel:
    """A fine-tuned MiniLM classifier loaded from ``out/`` (encoder + tokenizer + head).

    Optionally averaged with a word + character TF-IDF head (``text_head``, weight ``text_weight``),
    which catches wording the encoder blurs (amounts, card names, typos) at almost no cost per message.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        labels: list[str],
        *,
        oos_threshold: float,
        name: str,
        max_length: int = 64,
        text_head: LinearHead | None = None,
        text_weight: float = 0.0,
        embedding_head: LinearHead | None = None,
        embedding_weight: float = 0.0,
    ) -> None:
        for head in (text_head, embedding_head):
            if head is not None and head.labels != labels:
                raise ValueError("an ensemble head must have the same labels, in the same order, as the fine-tuned model")
        self.model = model
        self.tokenizer = tokenizer
        self.labels = labels
        self.oos_threshold = oos_threshold
        self.name = name
        self.max_length = max_length
        self.text_head = text_head if text_weight > 0 else None
        self.text_weight = text_weight if text_head is not None else 0.0
        self.embedding_head = embedding_head if embedding_weight > 0 else None
        self.embedding_weight = embedding_weight if embedding_head is not None else 0.0
        # with an embedding head the live pipeline passes the MiniLM sentence embeddings it computes anyway
        self.needs_embeddings = self.embedding_head is not None
        # One prediction at a time: the live worker runs turns on threads, and a fast tokenizer called
        # with padding/truncation reconfigures itself on every call ("Already borrowed" when concurrent).
        self._lock = threading.Lock()

    def predict_proba(self, texts: list[str], embeddings: np.ndarray | None = None, batch_size: int = 128) -> np.ndarray:
        proba = self.encoder_proba(texts, batch_size=batch_size)
        if not len(texts):
            return proba
        proba = (1.0 - self.text_weight - self.embedding_weight) * proba
        if self.text_head is not None:
            proba += self.text_weight * self.text_head.predict_proba(np.zeros((len(texts), 0), dtype=np.float32), texts)
        if self.embedding_head is not None:
            if embeddings is None:
                from parley.intelligence.embeddings import encode

                embeddings = encode(texts)
            proba += self.embedding_weight * self.embedding_head.predict_proba(embeddings)
        return proba

    def encoder_proba(self, texts: list[str], batch_size: int = 128) -> np.ndarray:
        """The fine-tuned network's class probabilities alone (no TF-IDF head)."""
        import torch

        device = next(self.model.parameters()).device
        self.model.eval()
        rows = []
        # length-sorted batches pad less; the rows are put back in the callers' order below
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        ordered = [texts[i] for i in order]
        with self._lock, torch.inference_mode():
            for start in range(0, len(ordered), batch_size):
                batch = self.tokenizer(
                    ordered[start : start + batch_size],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                ).to(device)
                logits = self.model(batch["input_ids"], batch["attention_mask"])
                rows.append(torch.softmax(logits.float(), dim=-1).cpu().numpy())
        if not rows:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        proba = np.empty((len(texts), len(self.labels)), dtype=np.float32)
        proba[order] = np.concatenate(rows)
        return proba

    def save(self, directory: Path, manifest: Manifest) -> None:
        import torch

        directory.mkdir(parents=True, exist_ok=True)
        self.model.encoder.save_pretrained(directory / "encoder")
        self.tokenizer.save_pretrained(directory / "encoder")
        torch.save(self.model.classifier.state_dict(), directory / "classifier.pt")
        (directory / "labels.json").write_text(json.dumps(self.labels), encoding="utf-8")
        if self.text_head is not None:
            self.text_head.save(directory / TEXT_HEAD_DIR)
        if self.embedding_head is not None:
            self.embedding_head.save(directory / EMBEDDING_HEAD_DIR)
        manifest.params["oos_threshold"] = self.oos_threshold
        manifest.params["text_weight"] = self.text_weight
        manifest.params["embedding_weight"] = self.embedding_weight
        manifest.write(directory)

    @classmethod
    def load(cls, directory: Path, manifest: Manifest) -> FinetunedIntentModel:
        import torch
        from transformers import AutoTokenizer

        labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        # models saved before the scale existed were trained (and must predict) with a scale of 1
        model = _build(len(labels), directory / "encoder", float(manifest.params.get("logit_scale", 1.0)))
        model.classifier.load_state_dict(torch.load(directory / "classifier.pt", map_location="cpu", weights_only=True))
        model.to(_device()).eval()
        tokenizer = AutoTokenizer.from_pretrained(str(directory / "encoder"), local_files_only=True)
        text_dir, embedding_dir = directory / TEXT_HEAD_DIR, directory / EMBEDDING_HEAD_DIR
        return cls(
            model,
            tokenizer,
            labels,
            oos_threshold=float(manifest.params.get("oos_threshold", 0.0)),
            name=manifest.name,
            max_length=int(manifest.params.get("max_length", 64)),
            text_head=LinearHead.load(text_dir) if (text_dir / "head.npz").is_file() else None,
            text_weight=float(manifest.params.get("text_weight", 0.0)),
            embedding_head=LinearHead.load(embedding_dir) if (embedding_dir / "head.npz").is_file() else None,
            embedding_weight=float(manifest.params.get("embedding_weight", 0.0)),
        )


def choose_ensemble(
    model: FinetunedIntentModel, splits: Splits, tune_proba: np.ndarray, opts: dict[str, Any], seed: int
) -> list[dict[str, float]]:
    """Fit the ensemble heads on train and set ``model``'s ensemble weights to the best on the tuning split.

    ``tune_proba`` are the fine-tuned network's own probabilities on the tuning split. Ties go to the
    earlier (smaller) weights. Returns the weight pairs tried with their tuning accuracy.
    """
    embedding_weights = sorted({float(w) for w in opts.get("embedding_weights") or [0.0]} | {0.0})
    text_weights = sorted({float(w) for w in opts.get("text_weights") or [0.0]} | {0.0})
    pairs = [(we, wt) for we in embedding_weights for wt in text_weights if we + wt < 1.0]
    if pairs == [(0.0, 0.0)]:
        return []
    texts, gold = [r.text for r in splits.train], [r.label or "" for r in splits.train]
    tune_texts = [r.text for r in splits.tune]
    tune_gold = np.asarray([r.label or "" for r in splits.tune])
    no_dims = np.zeros((len(texts), 0), dtype=np.float32)
    text_head = embedding_head = None
    text_proba = embedding_proba = np.zeros_like(tune_proba)
    if max(text_weights) > 0:
        text_head = LinearHead.fit(no_dims, gold, c=float(opts["text_c"]), texts=texts, tfidf_weight=1.0, seed=seed)
        text_proba = text_head.predict_proba(np.zeros((len(tune_texts), 0), dtype=np.float32), tune_texts)
    if max(embedding_weights) > 0:
        from parley.intelligence.cache import cached_encode

        embedded = cached_encode(texts + tune_texts)
        embedding_head = LinearHead.fit(embedded[: len(texts)], gold, c=float(opts["embedding_c"]), seed=seed)
        embedding_proba = embedding_head.predict_proba(embedded[len(texts) :])
    for head in (text_head, embedding_head):
        if head is not None and head.labels != model.labels:  # a label missing from train: never misalign
            return []
    labels = np.asarray(model.labels)
    tried: list[dict[str, float]] = []
    best, best_score = (0.0, 0.0), -1.0
    for we, wt in pairs:
        proba = (1.0 - we - wt) * tune_proba + we * embedding_proba + wt * text_proba
        score = float((labels[proba.argmax(axis=1)] == tune_gold).mean())
        tried.append({"embedding_weight": we, "text_weight": wt, "tune_accuracy": round(score, 4)})
        if score > best_score + 1e-9:
            best, best_score = (we, wt), score
    model.embedding_head, model.embedding_weight = (embedding_head, best[0]) if best[0] > 0 else (None, 0.0)
    model.text_head, model.text_weight = (text_head, best[1]) if best[1] > 0 else (None, 0.0)
    model.needs_embeddings = model.embedding_head is not None
    return tried


def train_finetuned_intent(
    splits: Splits, out: Path, *, format: str, started: float, seed: int, progress: bool, options: dict[str, Any]
) -> TrainResult:
    import torch
    from transformers import AutoTokenizer, get_linear_schedule_with_warmup

    from parley.intelligence.embeddings import model_path
    from parley.intelligence.training import TrainResult, oos_predictions

    opts = {**DEFAULTS, **options}
    if int(opts["threads"]) > 0:
        torch.set_num_threads(int(opts["threads"]))
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    labels = sorted({r.label or "" for r in splits.train})
    index = {label: i for i, label in enumerate(labels)}
    train = [(r.text, index[r.label or ""]) for r in splits.train]
    tune_texts, tune_gold = [r.text for r in splits.tune], [r.label or "" for r in splits.tune]
    device = _device()
    tokenizer = AutoTokenizer.from_pretrained(str(model_path()), local_files_only=True)
    net = _build(len(labels), model_path(), float(opts["logit_scale"])).to(device)
    model = FinetunedIntentModel(
        net, tokenizer, labels, oos_threshold=0.0, name=f"{format}-finetuned", max_length=opts["max_length"]
    )
    optimiser = torch.optim.AdamW(
        [
            {"params": net.encoder.parameters(), "lr": opts["learning_rate"]},
            {"params": net.classifier.parameters(), "lr": opts["head_learning_rate"]},
        ],
        weight_decay=0.01,
    )
    lengths = [
        len(ids) for ids in tokenizer([text for text, _ in train], truncation=True, max_length=opts["max_length"])["input_ids"]
    ]
    steps_per_epoch = int(np.ceil(len(train) / opts["batch_size"]))
    scheduler = get_linear_schedule_with_warmup(
        optimiser, int(opts["warmup_ratio"] * steps_per_epoch * opts["epochs"]), steps_per_epoch * opts["epochs"]
    )
    checkpoint = out / "checkpoint"
    checkpoint_manifest: dict[str, Any] = {
        "kind": "intent",
        "algorithm": "finetuned",
        "name": model.name,
        "labels": labels,
        "params": {"logit_scale": opts["logit_scale"], "max_length": opts["max_length"]},
    }
    history: list[dict[str, Any]] = []
    best_score, bad_epochs, stopped = -1.0, 0, "epochs"
    # logits of a normalised embedding need a scale to become confident: learn it via the head's weights
    for epoch in range(int(opts["epochs"])):
        net.train()
        batches = length_buckets(lengths, int(opts["batch_size"]), int(opts["bucket_batches"]), rng)
        iterator: Any = batches
        if progress:
            from tqdm import tqdm

            iterator = tqdm(iterator, desc=f"fine-tuning epoch {epoch + 1}", unit="batch")
        losses = []
        for indices in iterator:
            batch = [train[i] for i in indices]
            encoded = tokenizer(
                [text for text, _ in batch], padding=True, truncation=True, max_length=opts["max_length"], return_tensors="pt"
            ).to(device)
            target = torch.tensor([label for _, label in batch], device=device)
            logits = net(encoded["input_ids"], encoded["attention_mask"])
            loss = torch.nn.functional.cross_entropy(logits, target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimiser.step()
            scheduler.step()
            optimiser.zero_grad()
            losses.append(float(loss.detach()))
            if time.perf_counter() - started > opts["max_seconds"]:
                stopped = "max_seconds"
                break
        proba = model.predict_proba(tune_texts)
        predicted, confidences = oos_predictions(labels, proba, 0.0)
        score = intent_metrics(tune_gold, predicted, confidences)["accuracy"]
        history.append({"epoch": epoch + 1, "loss": round(float(np.mean(losses)), 4), "tune_accuracy": score})
        if score > best_score:
            best_score, bad_epochs = score, 0
            model.save(checkpoint, Manifest(**{**checkpoint_manifest, "params": dict(checkpoint_manifest["params"])}))
        else:
            bad_epochs += 1
            if bad_epochs > opts["patience"]:
                stopped = "early_stopping"
                break
        if stopped == "max_seconds":
            break
    best = FinetunedIntentModel.load(
        checkpoint, Manifest(**{**checkpoint_manifest, "params": dict(checkpoint_manifest["params"])})
    )
    tune_proba = best.encoder_proba(tune_texts)
    ensemble_grid = choose_ensemble(best, splits, tune_proba, opts, seed)
    if best.text_weight > 0 or best.embedding_weight > 0:
        tune_proba = best.predict_proba(tune_texts)
    calibration = calibrate_threshold(labels, tune_proba, tune_gold)
    gold = [r.label or "" for r in splits.report]
    has_oos = any(label in OOS_LABELS for label in gold) or any(label in OOS_LABELS for label in tune_gold)
    best.oos_threshold = calibration.threshold
    proba = best.predict_proba([r.text for r in splits.report])
    predicted, confidences = oos_predictions(labels, proba, calibration.threshold if has_oos else 0.0)
    metrics = intent_metrics(gold, predicted, confidences)
    metrics["split"] = splits.report_name
    records = splits.train + splits.tune + splits.report
    manifest = Manifest(
        kind="intent",
        algorithm="finetuned",
        name=best.name,
        labels=labels,
        params={
            **{k: v for k, v in opts.items()},
            "seed": seed,
            "history": history,
            "stopped": stopped,
            "ensemble_grid": ensemble_grid,
            "device": str(device),
            "splits": {"train": len(splits.train), "tune": len(splits.tune), splits.report_name: len(splits.report)},
        },
        metrics=metrics,
        data_fingerprint=data_fingerprint([r.text for r in records], [r.label for r in records]),
        dataset_format=format,
        training_seconds=time.perf_counter() - started,
    )
    best.save(out, manifest)
    return TrainResult(out, manifest, history)
