"""Benchmarks of incidentbot: each module exposes ``run(options) -> list[Row]``."""
