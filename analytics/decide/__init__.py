"""From evidence to a decision: analysis runs one analysis of one dataset (the single entry
point of pages, CLI and pack), verdict holds the decision rules, results the frozen results
objects and their JSON, decisions the decision log, readiness the readiness questions.
"""
