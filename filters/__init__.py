"""Keeping what is worth training on: language ID, quality rules and classifier, PII."""
