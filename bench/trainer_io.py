"""What trainers wait for: token counting, pull, and streaming from S3, each against its peer.

- tokens:  `TokenCounter` (encode_batch_fast, no offsets) vs the usual `Tokenizer.encode_batch`.
- pull:    `corpus.pull.pull` (threads + sha256 verify) vs boto3's TransferManager
           `download_file` per shard (s3transfer threads) + the same sha256 check.
- stream:  `iter_documents` (ranged GETs through our reader) vs pyarrow's own
           `S3FileSystem` + `ParquetFile.iter_batches`, reading every `text`.

Real Korean text (NSMC reviews, grouped 40 to a document) on a moto S3 server on
127.0.0.1, so the numbers measure client overhead, not a network. Medians of
`--repeats` runs; ratios > 1 mean ours is faster.

    .venv/bin/python bench/trainer_io.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import logging
import os
import socket
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = Path(os.environ.get("CORPUS_SHARED_DATA", REPO.parent / "shared" / "data"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    endpoint = start_s3()
    docs = korean_documents()
    print(f"{len(docs):,} Korean documents, {sum(len(d.encode()) for d in docs) / 1e6:.1f} MB of text")
    uri = publish_run(docs)
    rows = [
        bench("tokens", lambda: count_ours(docs), lambda: count_peer(docs), args.repeats),
        bench("pull", lambda: pull_ours(uri), lambda: pull_peer(uri), args.repeats),
        bench("stream", lambda: stream_ours(uri), lambda: stream_peer(uri, endpoint), args.repeats),
    ]
    print(f"{'task':8} {'ours s':>8} {'peer s':>8} {'peer/ours':>10}")
    for name, ours, peer in rows:
        print(f"{name:8} {ours:8.2f} {peer:8.2f} {peer / ours:10.2f}")


def bench(name, ours, peer, repeats):
    first_ours, first_peer = ours(), peer()
    if first_ours != first_peer:
        raise SystemExit(f"{name}: ours and the peer disagree ({first_ours} vs {first_peer})")
    times_ours, times_peer = [], []
    for _ in range(repeats):
        times_ours.append(timed(ours))
        times_peer.append(timed(peer))
    return name, statistics.median(times_ours), statistics.median(times_peer)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def start_s3() -> str:
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False).start()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(
        AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1"
    )
    return endpoint


def korean_documents() -> list[str]:
    with gzip.open(DATA / "korean_text/nsmc/nsmc_raw_reviews_sample.jsonl.gz", "rt", encoding="utf-8") as handle:
        reviews = [json.loads(line)["review"] for line in handle]
    return ["\n".join(reviews[i : i + 40]) for i in range(0, len(reviews), 40)]


def publish_run(docs: list[str]) -> str:
    import pyarrow as pa

    from corpus.config import ShardConfig
    from corpus.manifest import build_manifest
    from corpus.publish import publish_manifest
    from corpus.storage.s3 import s3_client
    from corpus.shards import ShardWriter
    from corpus.storage import open_storage

    s3_client().create_bucket(Bucket="bench")
    out = open_storage("s3://bench/run")
    writer = ShardWriter(out, "ko", ShardConfig(target_bytes=2 * 1024 * 1024, row_group_rows=256))
    ids = [hashlib.sha256(d.encode()).hexdigest()[:32] for d in docs]
    writer.write(pa.table({"id": ids, "lang": ["ko"] * len(docs), "text": docs}))
    shards = writer.close()
    publish_manifest(out, build_manifest("bench", None, "bench", None, shards))
    print(f"{len(shards)} shards, {sum(s.bytes for s in shards) / 1e6:.1f} MB of Parquet on s3://bench/run")
    return out.uri


def count_ours(docs):
    import pyarrow as pa

    from corpus.config import TokenizerConfig
    from corpus.stats import Stats
    from corpus.tokenizer import TokenCounter

    table, _ = TokenCounter(TokenizerConfig()).apply(pa.table({"text": docs}), Stats())
    return sum(table["n_tokens"].to_pylist())


def count_peer(docs):
    from tokenizers import Tokenizer

    from corpus.config import TokenizerConfig

    tokenizer = Tokenizer.from_file(str(TokenizerConfig().resolved_path()))
    return sum(len(e.ids) for e in tokenizer.encode_batch(docs, add_special_tokens=False))


def pull_ours(uri):
    from corpus.pull import pull

    with tempfile.TemporaryDirectory() as dest:
        result = pull(uri, dest, workers=8, progress=False)
        return sorted(result.fetched)


def pull_peer(uri):
    import boto3
    from boto3.s3.transfer import TransferConfig

    from corpus.storage.s3 import parse_s3_uri

    bucket, prefix = parse_s3_uri(uri)
    client = boto3.client("s3")
    manifest = json.loads(client.get_object(Bucket=bucket, Key=f"{prefix}/manifest.json")["Body"].read())
    config = TransferConfig(max_concurrency=8)
    fetched = []
    with tempfile.TemporaryDirectory() as dest:
        for shard in manifest["shards"]:
            target = Path(dest) / shard["path"]
            target.parent.mkdir(parents=True, exist_ok=True)
            client.download_file(bucket, f"{prefix}/{shard['path']}", str(target), Config=config)
            if hashlib.sha256(target.read_bytes()).hexdigest() == shard["sha256"]:
                fetched.append(shard["path"])
    return sorted(fetched)


def stream_ours(uri):
    from corpus.shards import iter_documents

    return sum(len(d["text"]) for d in iter_documents(uri, columns=["text"]))


def stream_peer(uri, endpoint):
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    from corpus.storage.s3 import parse_s3_uri

    bucket, prefix = parse_s3_uri(uri)
    fs = pafs.S3FileSystem(endpoint_override=endpoint, access_key="bench", secret_key="bench", region="us-east-1")
    with fs.open_input_stream(f"{bucket}/{prefix}/manifest.json") as handle:
        manifest = json.loads(handle.read())
    total = 0
    for shard in manifest["shards"]:
        with fs.open_input_file(f"{bucket}/{prefix}/{shard['path']}") as handle:
            for batch in pq.ParquetFile(handle).iter_batches(columns=["text"]):
                total += sum(len(t) for t in batch.column(0).to_pylist())
    return total


if __name__ == "__main__":
    main()
