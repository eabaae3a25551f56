"""Scalegate's engine: ingest, store, aggregate, infer, decide, export. Importable without Streamlit."""

__version__ = "0.1.0"
