"""Streamlit helpers for the dashboard pages: the cache boundary, the shared sidebar, drawing."""
