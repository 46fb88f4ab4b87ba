"""Text normalisation and feature hashing.

Everything here is stateless and configured by a small JSON-serialisable `FeatureConfig`, so an artifact
needs no vocabulary and no pickle: the same config rebuilds the same feature space.

Blocks (each L2-normalised, then concatenated):
  * word 1-2 grams of the normalised message + reason + focused log tail,
  * char 3-5 grams (within word boundaries) of the most error-dense part of that text,
  * structured tokens: reason, exit code and its signal class, source, which fields are present.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from remediator_model import hashing
from remediator_model.template import template_of

if TYPE_CHECKING:  # SciPy is imported only by the batch path (training, evaluation): serving stays without it
    import scipy.sparse as sp


class EventLike(Protocol):
    @property
    def reason(self) -> str: ...
    @property
    def exit_code(self) -> int | None: ...
    @property
    def message(self) -> str: ...
    @property
    def logs(self) -> str: ...
    @property
    def source(self) -> str: ...


@dataclass(frozen=True)
class FeatureConfig:
    word_features: int = 2**18
    char_features: int = 2**17
    meta_features: int = 2**10
    max_log_chars: int = 1500
    max_char_text: int = 300
    char_ngram_min: int = 4
    char_ngram_max: int = 4
    meta_scale: float = 1.0
    # The error's template (remediator_model.template) as a structured token: what a correction teaches
    # carries over to the whole family rather than to its host names. Off for artifacts saved without it.
    template_token: bool = True
    schema: str = "remediator-features/3"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FeatureConfig:
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d}
        known.setdefault("template_token", False)  # saved before templates existed: same features as then
        cfg = cls(**known)
        if cfg.schema != FeatureConfig.schema:
            raise ValueError(f"unsupported feature schema {cfg.schema!r}")
        return cfg

    @property
    def n_features(self) -> int:
        return self.word_features + self.char_features + self.meta_features


_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPACES = re.compile(r"[ \t]+")
# One pass over the lower-cased text; alternatives are tried in this order at each position.
_MASK = re.compile(
    r"(?P<ts>\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?z?)"
    r"|(?P<uuid>\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b)"
    r"|(?P<ip>\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b)"
    r"|(?P<pod>\b[a-z][a-z0-9-]*?-[a-z0-9]{8,10}-[a-z0-9]{5}\b)"
    r"|(?P<hex>\b(?:0x)?(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{6,}\b)"
    r"|(?P<num>\d{4,})"
)
_MASKS = {"ts": " ", "uuid": " uuid ", "ip": " ipaddr ", "hex": " hexid ", "num": "0000"}


def _mask(m: re.Match[str]) -> str:
    kind = m.lastgroup or "num"
    if kind == "pod":  # keep the workload name, drop the replica-set and pod hashes
        return m.group(0).rsplit("-", 2)[0] + " podhash"
    return _MASKS[kind]


_ERRLINE = re.compile(
    r"error|exception|fatal|fail|panic|denied|refused|timeout|timed out|deadline|killed|unable|cannot|can't|"
    r"could not|not found|no such|invalid|forbidden|unauthori|exceed|insufficient|evict|oom|memory|segmentation|"
    r"abort|traceback|caused by|errno|errno|unavailable|unreachable|reset|missing|required|not set|no space|"
    r"too many|permission|read-only|warn|crash|exit|probe|pull|manifest|placeholder|keyerror|critical",
)


MAX_RAW_LOG_CHARS = 20_000  # only the tail of very long logs is read (bounded latency)


def normalize(text: str) -> str:
    """Lower-case and mask what varies between occurrences of the same error (ids, hashes, numbers)."""
    text = _CAMEL.sub(" ", text).lower()
    return _SPACES.sub(" ", _MASK.sub(_mask, text))


def focus_logs(logs: str, max_chars: int) -> str:
    """The error-dense part of a log tail: lines that look like errors plus the last lines, deduplicated,
    in original order, keeping the end when too long."""
    if not logs:
        return ""
    lines = logs.splitlines()
    if len(lines) <= 3 and len(logs) <= max_chars:
        return logs.strip()
    keep: list[str] = []
    seen: set[str] = set()
    last = max(0, len(lines) - 3)
    for i, line in enumerate(lines):
        s = line.strip()
        if not s or s in seen:
            continue
        if i >= last or _ERRLINE.search(s.lower()) or s.startswith(("at ", "\tat ", "File ", "Caused by")):
            keep.append(s)
            seen.add(s)
    text = "\n".join(keep)
    return text[-max_chars:] if len(text) > max_chars else text


def exit_class(code: int | None) -> str:
    if code is None:
        return "none"
    return {
        0: "ok",
        1: "error",
        2: "misuse",
        126: "noexec",
        127: "notfound",
        134: "sigabrt",
        137: "sigkill",
        139: "sigsegv",
        143: "sigterm",
        255: "error255",
    }.get(code, "signal" if code > 128 else "other")


def meta_tokens(e: EventLike, template_token: bool = False) -> list[str]:
    reason = (e.reason or "").strip().lower()
    toks = [
        f"reason={reason or 'none'}",
        f"exit={e.exit_code if e.exit_code is not None else 'none'}",
        f"exitcls={exit_class(e.exit_code)}",
        f"source={(e.source or 'none').lower()}",
    ]
    toks.append("has_message" if (e.message or "").strip() else "no_message")
    toks.append("has_logs" if (e.logs or "").strip() else "no_logs")
    if reason:
        toks.append(f"reason_x_exit={reason}:{exit_class(e.exit_code)}")
    if template_token:
        tpl = template_of(e.reason or "", e.message or "", e.logs or "")
        if not tpl.empty:
            toks.append(f"tpl={tpl.key}")
    return toks


def texts(e: EventLike, cfg: FeatureConfig) -> tuple[str, str]:
    """(word text, char text) of one event. Normalisation runs once over head and logs."""
    head = normalize(f"{e.reason or ''} {e.message or ''}")
    logs = normalize(focus_logs((e.logs or "")[-MAX_RAW_LOG_CHARS:], cfg.max_log_chars))
    word = f"{head}\n{logs}"
    if cfg.max_char_text <= 0:
        return word, ""
    char = f"{head}\n{logs[-cfg.max_char_text :]}"[: cfg.max_char_text]
    return word, char


def _hash_docs(docs: Sequence[Sequence[str]], n_features: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hash token lists exactly like HashingVectorizer(alternate_sign=False): (indices, indptr, counts)."""
    idx, ptr = hashing.columns(docs, n_features)
    return idx, ptr, np.ones(len(idx), dtype=np.float32)


_MIX = np.array(
    [
        0x9E3779B97F4A7C15,
        0xC2B2AE3D27D4EB4F,
        0x165667B19E3779F9,
        0xD6E8FEB86659FD93,
        0x27D4EB2F165667C5,
        0x94D049BB133111EB,
    ],
    dtype=np.uint64,
)
_MUL = np.uint64(0xFF51AFD7ED558CCD)
_MUL2 = np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)


def char_columns(text: str, ns: Sequence[int], n_features: int) -> np.ndarray:
    """Columns of the character n-grams (sizes `ns`) of the space-padded text, hashed with a vectorised
    64-bit multiplicative hash (numpy, no per-n-gram Python work)."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    codes = np.frombuffer(f" {text} ".encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    size = len(codes)
    parts = []
    for n in ns:
        m = size - n + 1
        if m <= 0:
            continue
        h = np.full(m, _MIX[5], dtype=np.uint64) * np.uint64(n)
        for j in range(n):
            h = (h ^ (codes[j : j + m] * _MIX[j % 5])) * _MUL
        h ^= h >> _SHIFT  # murmur3 fmix64-style finaliser: every input bit reaches the low bits kept below
        h *= _MUL2
        h ^= h >> _SHIFT
        parts.append((h % np.uint64(n_features)).astype(np.int64))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def _cols_matrix(idx: np.ndarray, ptr: np.ndarray, n_docs: int, n_features: int, scale: float = 1.0) -> sp.csr_matrix:
    import scipy.sparse as sp

    m = sp.csr_matrix(
        (np.ones(len(idx), dtype=np.float32), idx.copy(), ptr), shape=(n_docs, n_features), dtype=np.float32
    )
    return _normalise_rows(m, scale)


def _normalise_rows(m: sp.csr_matrix, scale: float) -> sp.csr_matrix:
    """Sum duplicate columns (which sorts each row's indices) and scale every row to L2 norm `scale`."""
    m.sum_duplicates()
    counts = np.diff(m.indptr)
    rows = np.repeat(np.arange(m.shape[0]), counts)
    norms = np.sqrt(np.bincount(rows, weights=m.data.astype(np.float64) ** 2, minlength=m.shape[0]))
    norms[norms == 0] = 1.0
    m.data *= np.repeat((scale / norms).astype(np.float32), counts)
    return m


def _block_matrix(
    docs: Sequence[Sequence[str]], n_features: int, scale: float = 1.0
) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray]:
    """L2-normalised count matrix of a feature block, plus the raw column of every token (token order)."""
    import scipy.sparse as sp

    idx, ptr, vals = _hash_docs(docs, n_features)
    m = sp.csr_matrix((vals, idx.copy(), ptr), shape=(len(docs), n_features), dtype=np.float32)
    return _normalise_rows(m, scale), idx, ptr


def _block_vector(
    tokens: Sequence[str] | np.ndarray, n_features: int, offset: int, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    idx = tokens if isinstance(tokens, np.ndarray) else _hash_docs([tokens], n_features)[0]
    if idx.size == 0:
        return idx, np.zeros(0, dtype=np.float32), idx
    uniq, counts = np.unique(idx, return_counts=True)
    c = counts.astype(np.float32)
    return uniq + offset, c * (scale / float(np.sqrt((c * c).sum()))), idx


@dataclass(frozen=True)
class EventTokens:
    """What explanations need besides the feature vector: word n-grams with their columns, meta tokens."""

    words: list[str]
    word_columns: np.ndarray
    meta: list[str]


class Featurizer:
    """Stateless: build from a FeatureConfig, transform any number of events; safe to share across threads."""

    TOKEN_PATTERN = r"(?u)\b[a-z_][a-z0-9_]+\b"

    def __init__(self, cfg: FeatureConfig | None = None) -> None:
        self.cfg = cfg or FeatureConfig()
        self._word_analyzer = hashing.WordNgrams(self.TOKEN_PATTERN, 1, 2)
        self._char_ns = tuple(range(self.cfg.char_ngram_min, self.cfg.char_ngram_max + 1))

    def tokens(self, e: EventLike) -> tuple[list[str], np.ndarray, list[str], str]:
        """(word n-grams, char n-gram columns, meta tokens, normalised word text) of one event."""
        w, c = texts(e, self.cfg)
        meta = meta_tokens(e, self.cfg.template_token)
        return self._word_analyzer(w), char_columns(c, self._char_ns, self.cfg.char_features), meta, w

    def transform_with_tokens(self, events: Sequence[EventLike]) -> tuple[sp.csr_matrix, list[EventTokens]]:
        import scipy.sparse as sp

        ws, cs, ms = [], [], []
        for e in events:
            w, c, m, _ = self.tokens(e)
            ws.append(w)
            cs.append(c)
            ms.append(m)
        cfg = self.cfg
        xw, widx, wptr = _block_matrix(ws, cfg.word_features)
        cptr = np.zeros(len(cs) + 1, dtype=np.int64)
        np.cumsum([len(c) for c in cs], out=cptr[1:])
        cidx = np.concatenate(cs) if cs else np.zeros(0, dtype=np.int64)
        xc = _cols_matrix(cidx, cptr, len(cs), cfg.char_features)
        xm, _, _ = _block_matrix(ms, cfg.meta_features, cfg.meta_scale)
        x = sp.hstack([xw, xc, xm], format="csr", dtype=np.float32)  # blocks are sorted and in column order
        x.has_sorted_indices = True
        toks = [EventTokens(ws[i], widx[wptr[i] : wptr[i + 1]], ms[i]) for i in range(len(events))]
        return x, toks

    def transform(self, events: Sequence[EventLike]) -> sp.csr_matrix:
        """Feature matrix (n_events x n_features), float32 CSR with sorted column indices."""
        return self.transform_with_tokens(events)[0]

    def transform_one(self, e: EventLike) -> tuple[np.ndarray, np.ndarray, EventTokens]:
        """Sparse vector of one event as (sorted column indices, values), plus its tokens.
        Identical values to the corresponding row of `transform`."""
        cfg = self.cfg
        w, c, m, _ = self.tokens(e)
        iw, vw, wcols = _block_vector(w, cfg.word_features, 0)
        ic, vc, _ = _block_vector(c, cfg.char_features, cfg.word_features)
        im, vm, _ = _block_vector(m, cfg.meta_features, cfg.word_features + cfg.char_features, cfg.meta_scale)
        return np.concatenate([iw, ic, im]), np.concatenate([vw, vc, vm]), EventTokens(w, wcols, m)

    def meta_column(self, token: str) -> int:
        return self.cfg.word_features + self.cfg.char_features + hashing.column(token, self.cfg.meta_features)
