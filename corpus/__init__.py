"""corpus-builder core: document schema, config, storage, shards, stats, cost and the CLI."""

__version__ = "0.1.0"
