"""One shard as the manifest lists it.

Its own module so that the manifest (which lists entries) and the shard writer
(which makes them) both import it without importing each other.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class ShardEntry:
    path: str
    lang: str
    docs: int
    tokens: int
    bytes: int
    sha256: str

    def to_dict(self) -> dict:
        return asdict(self)
