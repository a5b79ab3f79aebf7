"""`corpus pull`: exactly the files a run's manifest lists, verified, resumable.

A file already at its place with the manifest's sha256 is skipped; anything
else is fetched into the scratch folder `.NAME.pull/` beside it, hashed, and
only moved into place when the hash matches, so DEST never holds a wrong file
under a shard's name. The scratch folder goes once the file is placed or has
failed, and whatever a killed pull left in it is removed by the next pull before
it fetches that file. A file that still hashes wrong after `attempts` fetches is
reported, and the pull fails.

Every path the manifest lists is checked before anything is fetched: a path
that could lead outside DEST or outside the run (absolute, '..', a symlink in
DEST or in a local run that leads out) refuses the whole manifest.

The manifest is written to DEST last, like the run itself. It lists what DEST
holds: the run's own manifest when everything was pulled, else a subset with
the same run_id, only the chosen languages, and a `subset` field saying what
was chosen, so `iter_documents` and a later pull from DEST verify against it.
"""

from __future__ import annotations

import os
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from corpus.layout import MANIFEST
from corpus.manifest import manifest_bytes, read_manifest
from corpus.publish import file_sha256
from corpus.shards import check_languages, listed_files, run_languages
from corpus.storage import LocalStorage, Storage, open_storage

ATTEMPTS = 3


@dataclass
class PullResult:
    fetched: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    bytes_fetched: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed


def pull(
    uri: str,
    dest: str | Path,
    langs: list[str] | None = None,
    workers: int = 8,
    tokenized: bool = False,
    progress: bool = True,
    attempts: int = ATTEMPTS,
    removed: bool = False,
) -> PullResult:
    """Download the manifest's shards (of `langs`, or all; plus `tokenized/` and `removed/` when asked) into `dest`.

    Raises UnknownLanguage for a language the run has no documents of, and
    ValueError for a manifest listing a path outside the run or DEST; either
    before anything is written.
    """
    source = open_storage(uri)
    manifest = read_manifest(source)
    check_languages(manifest, langs, source.uri)
    listed_files(manifest)  # every path the run lists is checked, pulled or not
    every = sorted(set(run_languages(manifest)) | ({e["lang"] for e in manifest.get("removed", [])} if removed else set()))
    pulled = pulled_manifest(manifest, langs or every, tokenized, removed)
    entries = listed_files(pulled)
    root = Path(dest).expanduser().resolve()
    targets = {e["path"]: _dest_path(root, e["path"]) for e in entries}
    for entry in entries:
        source.checked_url(entry["path"])
    result = PullResult()
    lock = threading.Lock()
    bar = tqdm(total=sum(e["bytes"] for e in entries), unit="B", unit_scale=True, desc="pull", disable=not progress)

    def fetch(entry: dict) -> tuple[dict, str, int]:
        return _fetch_verified(source, entry, targets[entry["path"]], attempts)

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for entry, outcome, n in pool.map(fetch, entries):
            with lock:
                bar.update(entry["bytes"])
                if outcome == "skipped":
                    result.skipped.append(entry["path"])
                elif outcome == "fetched":
                    result.fetched.append(entry["path"])
                else:
                    result.failed[entry["path"]] = outcome
                result.bytes_fetched += n
    bar.close()
    if result.ok:
        LocalStorage(root).write_bytes(MANIFEST, manifest_bytes(pulled))
    return result


def pulled_manifest(manifest: dict, langs: list[str], tokenized: bool, removed: bool = False) -> dict:
    """The manifest of what a pull of `langs` (and `tokenized/`, `removed/` or not) puts in DEST.

    The run's own manifest when that is everything it lists; else the same
    identity (run_id, config, tokenizer, created) with only the chosen entries
    and language totals, and `subset: {"languages", "tokenized"}` saying so (and
    `"removed"` when the run has a removed/ folder).
    """
    has_tokenized, has_removed = bool(manifest.get("tokenized")), bool(manifest.get("removed"))
    if set(langs) >= set(run_languages(manifest)) and (tokenized or not has_tokenized) and (removed or not has_removed):
        return manifest
    listed = ("languages", "shards", "tokenized", "removed")
    subset = {key: value for key, value in manifest.items() if key not in listed}
    subset["subset"] = {"languages": sorted(langs), "tokenized": tokenized and has_tokenized}
    if has_removed:
        subset["subset"]["removed"] = removed
    subset["languages"] = {lang: t for lang, t in manifest.get("languages", {}).items() if lang in langs}
    subset["shards"] = [e for e in manifest["shards"] if e["lang"] in langs]
    if tokenized and has_tokenized:
        subset["tokenized"] = [e for e in manifest["tokenized"] if e["lang"] in langs]
    if removed and has_removed:
        subset["removed"] = [e for e in manifest["removed"] if e["lang"] in langs]
    return subset


def _dest_path(root: Path, rel: str) -> Path:
    """Where `rel` goes in DEST, refused when a symlink already in DEST would lead it outside."""
    target = root / rel
    if not target.resolve().is_relative_to(root):
        raise ValueError(
            f"{target} leads to {target.resolve()}, outside {root} (a symlink in the destination): "
            "refusing to write there; remove the link or pull into another folder"
        )
    return target


def _fetch_verified(source: Storage, entry: dict, target: Path, attempts: int) -> tuple[dict, str, int]:
    """("skipped" | "fetched" | why it failed, bytes downloaded) for one manifest entry."""
    scratch = target.with_name(f".{target.name}.pull")
    _remove(scratch)
    if target.is_file() and file_sha256(target) == entry["sha256"]:
        return entry, "skipped", 0
    part = scratch / "data"
    fetched, got = 0, None
    try:
        scratch.mkdir(parents=True)
        for _ in range(attempts):
            source.download_file(entry["path"], part)
            fetched += part.stat().st_size
            got = file_sha256(part)
            if got == entry["sha256"]:
                os.replace(part, target)
                return entry, "fetched", fetched
    except Exception as exc:  # noqa: BLE001 - reported for this file; the pull fails
        return entry, f"download failed: {type(exc).__name__}: {exc}", fetched
    finally:
        _remove(scratch)
    return entry, f"sha256 {got} after {attempts} fetches, manifest says {entry['sha256']}", fetched


def _remove(scratch: Path) -> None:
    """Delete a scratch folder and what an interrupted pull left in it (a file or link of
    that name, as older pulls left, is unlinked, never followed)."""
    if scratch.is_symlink() or scratch.is_file():
        scratch.unlink()
    elif scratch.is_dir():
        shutil.rmtree(scratch)
