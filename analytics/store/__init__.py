"""Where data lives: the DuckDB file with its schema, serialised write transactions and the
long telemetry view (database), and the day cells stored with each dataset at load
(day_cells), which every analysis reads instead of the rows.
"""
