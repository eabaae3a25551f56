"""Where data lives: the DuckDB file with its schema, serialised write transactions and the
long telemetry view (database); the checks a file passes before it is opened for writing
(file_check); the schema's one migration ledger (migrations) and the upgrade that runs it on a
copy and keeps the original as a backup (upgrade); and the day cells stored with each dataset
at load (day_cells), which every analysis reads instead of the rows.
"""
