"""Anonymised, aggregated, differentially private contribution files of correction statistics."""
