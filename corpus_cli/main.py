"""The `corpus` command's entry point: the app with every verb family on it.

Importing a family's module registers its verbs on the app; `corpus --help`
lists them in the order imported here, so keep this order.
"""

from __future__ import annotations

import corpus_cli.run  # noqa: F401  run, recut, crawl
import corpus_cli.trainer  # noqa: F401  pull, mix
import corpus_cli.training  # noqa: F401  tokenizer train, train-quality, calibrate
import corpus_cli.cluster  # noqa: F401  submit, status, logs, stop
import corpus_cli.accounting  # noqa: F401  report, budget, portfolio
from corpus_cli.app import app

__all__ = ["app", "main"]


def main() -> None:
    app()
