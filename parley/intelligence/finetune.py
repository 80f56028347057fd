"""Intent model (b): MiniLM fine-tuned with a classification head (HF transformers + torch), as an ensemble.

The network: MiniLM's embeddings and its bottom ``frozen_layers`` transformer layers stay frozen and are
shared; on top of them, ``networks`` copies of the remaining layers are each fine-tuned (own seed, own
batch order) with mean pooling → dropout → a linear layer; the ensemble averages their probabilities.
The frozen bottom runs once per text at the start (its outputs are kept in memory), so an epoch only
runs the top layers: on a 2-core CPU three networks of three trained layers cost about what one fully
fine-tuned network did, and score higher (see ``docs/intelligence.md``).

Each network: cross-entropy, AdamW with linear warm-up/decay, early stopping on tuning-split accuracy
(``patience`` epochs), its best epoch kept; ``out/checkpoint`` holds the ensemble so far (updated at each
new best). ``max_seconds`` bounds the wall time (CPU boxes): the network in training keeps its best epoch
and no further network starts. Uses CUDA when present. The networks' average is then blended with
frozen-embedding and TF-IDF logistic-regression heads (weights chosen on the tuning split).
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Callable
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
    # networks fine-tuned on the shared frozen bottom; their probabilities are averaged
    "networks": 3,
    # MiniLM-L6: the embeddings and the bottom 3 layers frozen, the top 3 trained (0 = all 6 trained)
    "frozen_layers": 3,
    "epochs": 4,
    "batch_size": 32,
    "learning_rate": 1e-4,
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
TOPS_FILE = "tops.pt"


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


def _quiet_transformers() -> None:
    """No "Loading weights" / "Writing model shards" bars: training draws its own, live workers log lines."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


def _device() -> Any:
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _top_class() -> Any:
    import torch

    class Top(torch.nn.Module):
        """Trained transformer layers over the frozen bottom's token states → mean pool → linear head."""

        def __init__(self, layers: Any, hidden: int, num_labels: int, logit_scale: float) -> None:
            super().__init__()
            self.layers = layers
            self.dropout = torch.nn.Dropout(0.1)
            self.classifier = torch.nn.Linear(hidden, num_labels)
            self.logit_scale = logit_scale

        def forward(self, states: Any, mask: Any) -> Any:
            """Logits for token ``states`` (batch, length, hidden) under a 0/1 float ``mask`` (batch, length)."""
            additive = (1.0 - mask[:, None, None, :]) * torch.finfo(states.dtype).min
            for layer in self.layers:
                out = layer(states, attention_mask=additive)
                states = out[0] if isinstance(out, tuple) else out
            weights = mask.unsqueeze(-1)
            pooled = (states * weights).sum(1) / weights.sum(1).clamp(min=1e-6)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            # a unit-length embedding gives logits of a few tenths: without a scale the softmax stays flat
            # and training crawls (cross-entropy 1.2 after three epochs); 20 makes confident logits reachable
            return self.classifier(self.dropout(pooled)) * self.logit_scale

    return Top


def _network_class() -> Any:
    import torch

    class StackedNetwork(torch.nn.Module):
        """The frozen bottom (a truncated MiniLM) shared by the trained tops; ``forward`` averages their softmax."""

        def __init__(self, bottom: Any, tops: list[Any]) -> None:
            super().__init__()
            self.bottom = bottom
            self.tops = torch.nn.ModuleList(tops)

        def bottom_states(self, input_ids: Any, attention_mask: Any) -> Any:
            return self.bottom(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            states = self.bottom_states(input_ids, attention_mask)
            mask = attention_mask.to(states.dtype)
            return torch.stack([torch.softmax(top(states, mask).float(), dim=-1) for top in self.tops]).mean(0)

    return StackedNetwork


def _split_encoder(encoder: Any, frozen_layers: int) -> tuple[Any, Any]:
    """(bottom, top layers): ``encoder`` cut after its first ``frozen_layers`` layers (the bottom keeps its config valid)."""
    import torch

    layers = encoder.encoder.layer
    if not 0 <= frozen_layers <= len(layers):
        raise ValueError(f"frozen_layers must be between 0 and {len(layers)}")
    top = torch.nn.ModuleList(list(layers[frozen_layers:]))
    encoder.encoder.layer = torch.nn.ModuleList(list(layers[:frozen_layers]))
    encoder.config.num_hidden_layers = frozen_layers
    for parameter in encoder.parameters():
        parameter.requires_grad_(False)
    return encoder.eval(), top


def _empty_top_layers(bottom_dir: Path, count: int) -> Any:
    """``count`` freshly built transformer layers shaped like the bottom's (their weights are loaded after)."""
    from transformers import AutoConfig, AutoModel

    config = AutoConfig.from_pretrained(str(bottom_dir), local_files_only=True)
    config.num_hidden_layers = count
    return AutoModel.from_config(config).encoder.layer


class FinetunedIntentModel:
    """A fine-tuned MiniLM ensemble loaded from ``out/`` (frozen bottom + trained tops + tokenizer).

    Optionally averaged with a word + character TF-IDF head (``text_head``, weight ``text_weight``),
    which catches wording the encoder blurs (amounts, card names, typos) at almost no cost per message,
    and with a logistic regression on the frozen MiniLM sentence embeddings (``embedding_head``).
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
        """The fine-tuned networks' averaged class probabilities alone (no TF-IDF or embedding head)."""
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
                rows.append(self.model(batch["input_ids"], batch["attention_mask"]).cpu().numpy())
        if not rows:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        proba = np.empty((len(texts), len(self.labels)), dtype=np.float32)
        proba[order] = np.concatenate(rows)
        return proba

    def save(self, directory: Path, manifest: Manifest, *, with_bottom: bool = True) -> None:
        """Write the model; ``with_bottom=False`` rewrites only the tops and heads (the bottom never changes)."""
        import torch

        directory.mkdir(parents=True, exist_ok=True)
        if with_bottom or not (directory / "encoder").is_dir():
            self.model.bottom.save_pretrained(directory / "encoder")
            self.tokenizer.save_pretrained(directory / "encoder")
        tops = [{k: v.detach().cpu() for k, v in top.state_dict().items()} for top in self.model.tops]
        torch.save(tops, directory / TOPS_FILE)
        (directory / "labels.json").write_text(json.dumps(self.labels), encoding="utf-8")
        for head, folder in ((self.text_head, TEXT_HEAD_DIR), (self.embedding_head, EMBEDDING_HEAD_DIR)):
            if head is not None:
                head.save(directory / folder)
        manifest.params["oos_threshold"] = self.oos_threshold
        manifest.params["text_weight"] = self.text_weight
        manifest.params["embedding_weight"] = self.embedding_weight
        manifest.write(directory)

    @classmethod
    def load(cls, directory: Path, manifest: Manifest) -> FinetunedIntentModel:
        import torch
        from transformers import AutoModel, AutoTokenizer

        _quiet_transformers()
        labels = json.loads((directory / "labels.json").read_text(encoding="utf-8"))
        # models saved before the scale existed were trained (and must predict) with a scale of 1
        scale = float(manifest.params.get("logit_scale", 1.0))
        encoder = AutoModel.from_pretrained(str(directory / "encoder"), local_files_only=True)
        hidden = encoder.config.hidden_size
        Top = _top_class()
        if (directory / TOPS_FILE).is_file():
            bottom, _ = _split_encoder(encoder, encoder.config.num_hidden_layers)
            tops = []
            for state in torch.load(directory / TOPS_FILE, map_location="cpu", weights_only=True):
                count = len({key.split(".")[1] for key in state if key.startswith("layers.")})
                top = Top(_empty_top_layers(directory / "encoder", count), hidden, len(labels), scale)
                top.load_state_dict(state)
                tops.append(top)
        else:  # a single network fine-tuned end to end (models trained before the frozen bottom)
            bottom, layers = _split_encoder(encoder, 0)
            top = Top(layers, hidden, len(labels), scale)
            top.classifier.load_state_dict(torch.load(directory / "classifier.pt", map_location="cpu", weights_only=True))
            tops = [top]
        model = _network_class()(bottom, tops).to(_device()).eval()
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


def _bottom_cache(
    net: Any,
    tokenizer: Any,
    texts: list[str],
    max_length: int,
    device: Any,
    *,
    progress: bool = False,
    check: Callable[[], None] = lambda: None,
) -> list[Any]:
    """The frozen bottom's token states of each text (length × hidden, on the CPU), run once before training."""
    import torch

    states: list[Any] = [None] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    starts: Any = range(0, len(order), 128)
    if progress:
        from tqdm import tqdm

        starts = tqdm(starts, desc="frozen layers", unit="batch")
    with torch.no_grad():
        for start in starts:
            check()
            indices = order[start : start + 128]
            batch = tokenizer(
                [texts[i] for i in indices], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            ).to(device)
            out = net.bottom_states(batch["input_ids"], batch["attention_mask"]).float().cpu()
            for row, i in enumerate(indices):
                states[i] = out[row, : int(batch["attention_mask"][row].sum())].clone()
    return states


def _pad(states: list[Any], indices: list[int], device: Any) -> tuple[Any, Any]:
    """A padded batch (batch, longest, hidden) of cached bottom states and its 0/1 mask."""
    import torch

    longest = max(int(states[i].shape[0]) for i in indices)
    x = torch.zeros(len(indices), longest, int(states[indices[0]].shape[1]))
    mask = torch.zeros(len(indices), longest)
    for row, i in enumerate(indices):
        n = int(states[i].shape[0])
        x[row, :n] = states[i]
        mask[row, :n] = 1.0
    return x.to(device), mask.to(device)


def _top_proba(top: Any, states: list[Any], device: Any, batch_size: int = 256) -> np.ndarray:
    import torch

    top.eval()
    rows = []
    order = sorted(range(len(states)), key=lambda i: int(states[i].shape[0]))
    with torch.no_grad():
        for start in range(0, len(order), batch_size):
            x, mask = _pad(states, order[start : start + batch_size], device)
            rows.append(torch.softmax(top(x, mask).float(), dim=-1).cpu().numpy())
    proba = np.empty((len(states), rows[0].shape[1] if rows else 0), dtype=np.float32)
    if rows:
        proba[order] = np.concatenate(rows)
    return proba


def train_finetuned_intent(
    splits: Splits,
    out: Path,
    *,
    format: str,
    started: float,
    seed: int,
    progress: bool,
    options: dict[str, Any],
    checkpoint: Callable[[], None] | None = None,
) -> TrainResult:
    """Fine-tune ``networks`` tops on the frozen bottom, blend with the extra heads, calibrate, save to ``out``.

    ``checkpoint`` is called before every training batch (a cancelled job's raises and stops training).
    """
    import torch
    from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

    from parley.intelligence.embeddings import model_path
    from parley.intelligence.training import TrainResult, oos_predictions

    opts = {**DEFAULTS, **options}
    check = checkpoint or (lambda: None)
    _quiet_transformers()
    if int(opts["threads"]) > 0:
        torch.set_num_threads(int(opts["threads"]))
    labels = sorted({r.label or "" for r in splits.train})
    index = {label: i for i, label in enumerate(labels)}
    train_texts, train_y = [r.text for r in splits.train], [index[r.label or ""] for r in splits.train]
    tune_texts, tune_gold = [r.text for r in splits.tune], [r.label or "" for r in splits.tune]
    tune_y = np.asarray([index.get(label, -1) for label in tune_gold])
    device = _device()
    tokenizer = AutoTokenizer.from_pretrained(str(model_path()), local_files_only=True)
    encoder = AutoModel.from_pretrained(str(model_path()), local_files_only=True)
    bottom, pretrained_top = _split_encoder(encoder, int(opts["frozen_layers"]))
    Top, Network = _top_class(), _network_class()
    hidden, scale = int(encoder.config.hidden_size), float(opts["logit_scale"])
    net = Network(bottom, []).to(device)
    model = FinetunedIntentModel(
        net, tokenizer, labels, oos_threshold=0.0, name=f"{format}-finetuned", max_length=int(opts["max_length"])
    )
    shape = {
        "logit_scale": scale,
        "max_length": int(opts["max_length"]),
        "frozen_layers": int(opts["frozen_layers"]),
        "top_layers": len(pretrained_top),
    }
    check()
    train_states, tune_states = (
        _bottom_cache(net, tokenizer, texts, int(opts["max_length"]), device, progress=progress, check=check)
        for texts in (train_texts, tune_texts)
    )
    lengths = [int(s.shape[0]) for s in train_states]
    checkpoint_dir = out / "checkpoint"
    checkpoint_manifest: dict[str, Any] = {"kind": "intent", "algorithm": "finetuned", "name": model.name, "labels": labels}
    history: list[dict[str, Any]] = []
    tune_probas: list[np.ndarray] = []
    # why each network stopped: "epochs" (all run), "early_stopping" or "max_seconds"
    network_stops: list[str] = []
    stopped, epochs, batch_size = "epochs", int(opts["epochs"]), int(opts["batch_size"])
    steps_per_epoch = int(np.ceil(len(train_states) / batch_size))
    for member in range(max(1, int(opts["networks"]))):
        if stopped == "max_seconds":
            break
        torch.manual_seed(seed + member)
        rng = np.random.default_rng(seed + member)
        top = Top(copy.deepcopy(pretrained_top), hidden, len(labels), scale).to(device)
        optimiser = torch.optim.AdamW(
            [
                {"params": top.layers.parameters(), "lr": opts["learning_rate"]},
                {"params": top.classifier.parameters(), "lr": opts["head_learning_rate"]},
            ],
            weight_decay=0.01,
        )
        scheduler = get_linear_schedule_with_warmup(
            optimiser, int(opts["warmup_ratio"] * steps_per_epoch * epochs), steps_per_epoch * epochs
        )
        best_state: dict[str, Any] | None = None
        network_stop = "epochs"
        best_score, best_proba, bad_epochs = -1.0, np.zeros((len(tune_texts), len(labels)), dtype=np.float32), 0
        for epoch in range(epochs):
            top.train()
            batches: Any = length_buckets(lengths, batch_size, int(opts["bucket_batches"]), rng)
            if progress:
                from tqdm import tqdm

                batches = tqdm(batches, desc=f"fine-tuning network {member + 1}, epoch {epoch + 1}", unit="batch")
            losses = []
            for indices in batches:
                check()
                x, mask = _pad(train_states, indices, device)
                target = torch.tensor([train_y[i] for i in indices], device=device)
                loss = torch.nn.functional.cross_entropy(top(x, mask), target)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(top.parameters(), 1.0)
                optimiser.step()
                scheduler.step()
                optimiser.zero_grad()
                losses.append(float(loss.detach()))
                if time.perf_counter() - started > opts["max_seconds"]:
                    stopped = "max_seconds"
                    break
            proba = _top_proba(top, tune_states, device)
            score = float((proba.argmax(axis=1) == tune_y).mean()) if len(tune_y) else 0.0
            history.append(
                {"network": member + 1, "epoch": epoch + 1, "loss": round(float(np.mean(losses)), 4), "tune_accuracy": score}
            )
            if score > best_score:
                best_score, best_proba, bad_epochs = score, proba, 0
                best_state = {k: v.detach().clone() for k, v in top.state_dict().items()}
                # the checkpoint: the networks finished so far plus this one at its best epoch
                finished = net.tops
                net.tops = torch.nn.ModuleList([*finished, top])
                model.save(
                    checkpoint_dir,
                    Manifest(**checkpoint_manifest, params=dict(shape)),
                    with_bottom=not (checkpoint_dir / "encoder").is_dir(),
                )
                net.tops = finished
            else:
                bad_epochs += 1
                if bad_epochs > opts["patience"]:
                    network_stop = "early_stopping"
                    break
            if stopped == "max_seconds":
                network_stop = "max_seconds"
                break
        network_stops.append(network_stop)
        if best_state is None:
            break
        top.load_state_dict(best_state)
        net.tops.append(top.eval())
        tune_probas.append(best_proba)
    check()
    tune_proba = np.mean(tune_probas, axis=0)
    ensemble_grid = choose_ensemble(model, splits, tune_proba, opts, seed)
    if model.text_weight > 0 or model.embedding_weight > 0:
        tune_proba = model.predict_proba(tune_texts)
    calibration = calibrate_threshold(labels, tune_proba, tune_gold)
    gold = [r.label or "" for r in splits.report]
    has_oos = any(label in OOS_LABELS for label in gold) or any(label in OOS_LABELS for label in tune_gold)
    model.oos_threshold = calibration.threshold
    proba = model.predict_proba([r.text for r in splits.report])
    predicted, confidences = oos_predictions(labels, proba, calibration.threshold if has_oos else 0.0)
    metrics = intent_metrics(gold, predicted, confidences)
    metrics["split"] = splits.report_name
    records = splits.train + splits.tune + splits.report
    manifest = Manifest(
        kind="intent",
        algorithm="finetuned",
        name=model.name,
        labels=labels,
        params={
            **opts,
            **shape,
            "seed": seed,
            "history": history,
            "networks_trained": len(net.tops),
            "stopped": stopped,
            "network_stops": network_stops,
            "ensemble_grid": ensemble_grid,
            "device": str(device),
            "splits": {"train": len(splits.train), "tune": len(splits.tune), splits.report_name: len(splits.report)},
        },
        metrics=metrics,
        data_fingerprint=data_fingerprint([r.text for r in records], [r.label for r in records]),
        dataset_format=format,
        training_seconds=time.perf_counter() - started,
    )
    model.save(out, manifest)
    return TrainResult(out, manifest, history)
