"""What people see outside the dashboard's widgets: charts (Altair, one theme), export (PNG,
SVG, PDF, CSV, XLSX with formulas neutralised), pack (the board pack) and ui_state (the pure
helpers the pages use: URL state, tables, formatting).
"""
