"""zkmargin: zero-knowledge margin-solvency proofs for exchanges."""

__version__ = "0.1.0"
