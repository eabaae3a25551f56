"""Scalegate's performance benchmark: `python -m bench` (or `make bench`).

Every measure is a ratio against a reference timed in the same run, on the same file and the same
machine, so the numbers travel between machines better than seconds do:

* ingest: Scalegate's load / DuckDB's own `CREATE TABLE t AS SELECT * FROM read_csv(path)`;
* analysis: the full report (`analyse`) / a bare DuckDB GROUP BY of the same cells;
* interaction: the analysis again for one site and for one month (seconds, and against the same
  bare GROUP BY with the same filter);
* memory: peak RSS of the load and of the report, each in a fresh process;
* the peer: the same report done the usual notebook way (pandas, scipy, statsmodels), end to
  end from CSV to verdicts, against ours (load + report), in time and in peak memory;
* pages: AppTest render time of each dashboard page on the 1M-row dataset.

Timings run in a warm worker process (imports done, one warm-up call first). Each is the median of
3 runs when one run takes under 2 s, else a single run. The benchmark is not part of the tests.
"""
