"""Where stages run: the per-file chain, the Ray Data wiring, submission, the resume ledger."""
