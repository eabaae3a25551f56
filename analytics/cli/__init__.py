"""The command line behind `python -m analytics`: commands (load, init-sample, the analysis
entry) and report (results.json, the verdict table, the board pack).
"""
