"""A real S3-compatible HTTP server on 127.0.0.1 (moto's ThreadedMotoServer) for tests.

boto3 reaches it over HTTP through `AWS_ENDPOINT_URL`, exactly as it would reach
MinIO or AWS: nothing in the process is patched. Registered as a plugin in
tests/conftest.py.
"""

from __future__ import annotations

import logging
import socket
import uuid

import pytest


@pytest.fixture(scope="session")
def s3_endpoint():
    """Start the server once per session; point the standard AWS settings at it."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AWS_ENDPOINT_URL", endpoint)
        env.setenv("AWS_ACCESS_KEY_ID", "test-key")
        env.setenv("AWS_SECRET_ACCESS_KEY", "test-secret")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.delenv("AWS_PROFILE", raising=False)
        yield endpoint
    server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint) -> str:
    """A fresh, empty bucket for one test: `s3://NAME`."""
    from corpus.storage.s3 import s3_client

    name = f"test-{uuid.uuid4().hex[:12]}"
    s3_client().create_bucket(Bucket=name)
    return f"s3://{name}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
