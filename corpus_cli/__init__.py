"""The `corpus` command, the top floor of the house: it imports every package below
it and nothing imports it (tests/test_import_contract.py). `corpus_cli.main` is the
entry point; one module per verb family registers its verbs on `corpus_cli.app.app`."""
