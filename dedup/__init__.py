"""Exact and MinHash near-duplicate detection: plain functions over Arrow tables."""
