"""Per document, what dedup compares: the exact key and the MinHash LSH band hashes.

`SignatureStage` runs inside every work unit (in parallel) and adds the
internal columns `_dedup_key` (exact key), `_minhash_bands` (LSH band hashes)
and, with `verify`, `_minhash` (the signature as bytes). The corpus-wide pass
(dedup/plan.py) reads only those.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from corpus.config import DedupConfig
from corpus.normalize import normalize
from corpus.stats import Stats
from dedup.exact import normalized_key
from dedup.lsh import band_hashes, optimal_bands
from dedup.minhash import MinHasher, OnePermutationHasher
from dedup.shingles import Shingler

KEY_COL, BANDS_COL, SIG_COL = "_dedup_key", "_minhash_bands", "_minhash"
SIGNATURE_BATCH = 2048
SIGNATURE_CHARS = 1 << 22  # ~32 MB per uint64 array of a batch's code points


class SignatureStage:
    """Stage `dedup_signatures`: exact key and LSH band hashes of every document (never drops)."""

    name = "dedup_signatures"

    def __init__(self, cfg: DedupConfig) -> None:
        self.cfg = cfg
        self.bands, self.rows = optimal_bands(cfg.threshold, cfg.num_perm)
        if cfg.scheme == "oph":
            self.hasher: MinHasher | OnePermutationHasher = OnePermutationHasher(cfg.num_perm, cfg.seed)
        else:
            self.hasher = MinHasher(cfg.num_perm, cfg.seed, cfg.scheme)
        self._shinglers: dict[tuple[str, int], Shingler] = {}

    def apply(self, table: pa.Table, stats: Stats) -> tuple[pa.Table, None]:
        norms = [normalize(t) for t in table["text"].to_pylist()]
        langs = table["lang"].to_pylist() if "lang" in table.column_names else [None] * len(norms)
        table = table.append_column(KEY_COL, pa.array([normalized_key(n) for n in norms], pa.string()))
        if not self.cfg.near:
            return table, None
        signatures, empty = self._signatures(norms, langs)
        hashes = band_hashes(signatures, self.bands, self.rows)
        flat = pa.array(hashes.reshape(-1), pa.uint64())
        offsets = pa.array(np.arange(0, hashes.size + 1, self.bands, dtype=np.int32))
        bands = pa.ListArray.from_arrays(offsets, flat, mask=pa.array(empty))
        table = table.append_column(BANDS_COL, bands)
        if self.cfg.verify:
            table = table.append_column(SIG_COL, _signature_bytes(signatures))
        return table, None

    def _signatures(self, norms: list[str], langs: list) -> tuple[np.ndarray, np.ndarray]:
        """Signatures and which documents have no shingles, a batch of at most
        `SIGNATURE_BATCH` documents and `SIGNATURE_CHARS` characters at a time:
        shingle sets (or hash arrays) are large, a unit may be too."""
        signatures, empty = [], []
        for batch in _batches(norms, SIGNATURE_BATCH, SIGNATURE_CHARS):
            shinglers = [self._shingler(langs[i]) for i in batch]
            texts = [norms[i] for i in batch]
            if isinstance(self.hasher, OnePermutationHasher):
                hashes, owners = self._shingle_hashes(texts, shinglers)
                signatures.append(self.hasher.signatures(hashes, owners, len(texts)))
                empty.append(np.bincount(owners, minlength=len(texts)) == 0)
            else:
                shingle_sets = [shingler.shingles(text) for shingler, text in zip(shinglers, texts)]
                signatures.append(self.hasher.signatures(shingle_sets))
                empty.append(np.array([not s for s in shingle_sets], dtype=bool))
        if not signatures:
            return np.zeros((0, self.cfg.num_perm), np.uint64 if self.cfg.scheme == "legacy" else np.uint32), np.zeros(0, bool)
        return np.vstack(signatures), np.concatenate(empty)

    def _shingle_hashes(self, texts: list[str], shinglers: list[Shingler]) -> tuple[np.ndarray, np.ndarray]:
        """Shingle hashes of a batch, one `Shingler.hashes` call per shingle kind."""
        groups: dict[Shingler, list[int]] = {}
        for i, shingler in enumerate(shinglers):
            groups.setdefault(shingler, []).append(i)
        hashes, owners = [], []
        for shingler, members in groups.items():
            h, o = shingler.hashes([texts[i] for i in members], self.cfg.seed)
            hashes.append(h)
            owners.append(np.asarray(members, np.int64)[o])
        return np.concatenate(hashes), np.concatenate(owners)

    def _shingler(self, lang: str | None) -> Shingler:
        spec = self.cfg.shingle(lang)
        key = (spec.kind, spec.size)
        if key not in self._shinglers:
            self._shinglers[key] = Shingler(spec.kind, spec.size)
        return self._shinglers[key]


def _batches(texts: list[str], max_docs: int, max_chars: int) -> list[range]:
    """Consecutive index ranges of at most `max_docs` texts and `max_chars`
    characters (a longer text alone is its own batch)."""
    batches, start, chars = [], 0, 0
    for i, text in enumerate(texts):
        if i > start and (i - start >= max_docs or chars + len(text) > max_chars):
            batches.append(range(start, i))
            start, chars = i, 0
        chars += len(text)
    if texts:
        batches.append(range(start, len(texts)))
    return batches


def index_settings(cfg: DedupConfig) -> dict:
    """What must match for band hashes of two runs to be comparable."""
    dump = cfg.model_dump(mode="json")
    return {k: dump[k] for k in ("threshold", "num_perm", "seed", "scheme", "shingles", "default_shingles")}



def _signature_bytes(signatures: np.ndarray) -> pa.Array:
    """Each row's signature as one binary value, without a Python object per row."""
    rows = np.ascontiguousarray(signatures)
    width = rows.shape[1] * rows.itemsize
    fixed = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), len(rows), [None, pa.py_buffer(rows.tobytes())])
    return fixed.cast(pa.binary())
