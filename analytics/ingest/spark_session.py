"""A Spark Connect session for the Spark load, and Spark's failures as sentences.

`--spark-remote sc://HOST:PORT` talks to a cluster's Spark Connect endpoint (Databricks, EMR,
Dataproc expose one); without it, a local Spark starts in this process (`remote("local[*]")`,
which needs Java). pyspark is an optional extra (`scalegate[spark]`): it is imported here only,
and only when a Spark load runs.

A client pointed at a server that does not answer retries for about ten minutes by default; a
short retry policy makes it fail in seconds, as a sentence.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from analytics.core.errors import ScalegateError

if TYPE_CHECKING:
    from pyspark.sql.connect.session import SparkSession

LOCAL = "local[*]"
# Three retries with at most 2 s between them: an unreachable server fails in about 3 s.
RETRIES = 3
MAX_BACKOFF_MS = 2000
# The local server's settings: no web UI (a port and memory for nothing), no progress bars.
_LOCAL_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.log.level": "ERROR",
}

_SESSIONS: dict[str, Any] = {}
_LOCK = threading.Lock()


def _import_pyspark() -> None:
    """Import pyspark's Connect client, or say how to install it."""
    try:
        with warnings.catch_warnings():
            # pyspark warns about pandas >= 3; results come back through Arrow, never pandas.
            warnings.simplefilter("ignore", FutureWarning)
            import pyspark.sql.connect.session  # noqa: F401
        # Said as a sentence instead (see _sentence); the client also warns at exit.
        warnings.filterwarnings("ignore", message=r"\[RETRIES_EXCEEDED\]")
    except ImportError as exc:
        raise ScalegateError(
            "Spark support is not installed: pip install 'scalegate[spark]' "
            "(or load the file without --engine spark)."
        ) from exc


def java_path() -> str | None:
    """The java a local Spark would start, from JAVA_HOME or the PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return os.path.join(home, "bin", "java")
    return shutil.which("java")


@contextmanager
def _jvm_output_to(log_path: str) -> Iterator[None]:
    """Send what the local JVM prints (its logs, its warnings) to a file, not to our stderr:
    the JVM inherits file descriptors 1 and 2 when it starts, so they point at the log while
    it starts and are put back at once."""
    saved = [os.dup(1), os.dup(2)]
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(log, 1)
        os.dup2(log, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, log):
            os.close(fd)


def _start_local() -> SparkSession:
    from pyspark.sql import SparkSession as Builder

    if java_path() is None:
        raise ScalegateError(
            "A local Spark needs Java 17 or later, which is not installed: install a Java "
            "runtime (apt-get install openjdk-17-jre-headless) or pass --spark-remote "
            "sc://HOST:PORT."
        )
    log_path = os.path.join(tempfile.gettempdir(), f"scalegate-spark-{os.getuid()}.log")
    builder = Builder.builder.remote(LOCAL)
    for key, value in _LOCAL_CONF.items():
        builder = builder.config(key, value)
    try:
        with _jvm_output_to(log_path), warnings.catch_warnings():
            # The client sets the server's static settings once more and warns that it cannot.
            warnings.simplefilter("ignore", UserWarning)
            return builder.getOrCreate()  # type: ignore[return-value]
    except Exception as exc:
        raise ScalegateError(
            f"The local Spark did not start ({type(exc).__name__}; its log is {log_path}): "
            "check that Java 17 or later is installed."
        ) from exc


def _connect_remote(url: str) -> SparkSession:
    from pyspark.sql.connect.session import SparkSession

    if not url.startswith("sc://"):
        raise ScalegateError(
            f"--spark-remote takes a Spark Connect address such as sc://HOST:15002, not {url}."
        )
    try:
        return SparkSession.builder.remote(url).create()
    except Exception as exc:
        raise ScalegateError(
            f"The Spark Connect address {url} is not usable ({_first_line(exc)})."
        ) from exc


def session(remote: str | None = None) -> SparkSession:
    """The process's session for this address (None: a local Spark), with a short retry
    policy. Sessions are kept for the life of the process, so a second load reuses the JVM."""
    _import_pyspark()
    from pyspark.sql.connect.client.retries import DefaultPolicy

    key = remote or LOCAL
    with _LOCK:
        found = _SESSIONS.get(key)
        if found is not None and not found.is_stopped:
            return found
        spark = _start_local() if remote is None else _connect_remote(remote)
        spark.client.set_retry_policies(
            [DefaultPolicy(max_retries=RETRIES, max_backoff=MAX_BACKOFF_MS)]
        )
        _SESSIONS[key] = spark
        return spark


def stop_all() -> None:
    """Stop every session this process started (and the local server with its JVM)."""
    with _LOCK:
        for spark in _SESSIONS.values():
            spark.stop()
        _SESSIONS.clear()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0].strip().rstrip(".") if text else type(exc).__name__


@contextmanager
def spark_errors(where: str) -> Iterator[None]:
    """Spark's failures as one sentence: a server that does not answer, a path or table that
    is not there, a query Spark refuses. `where` names the source in the sentence."""
    from pyspark.errors import PySparkException

    try:
        yield
    except ScalegateError:
        raise
    except PySparkException as exc:
        raise ScalegateError(_sentence(exc, where)) from exc


def _sentence(exc: BaseException, where: str) -> str:
    text = str(exc)
    condition = getattr(exc, "getCondition", lambda: None)() or ""
    if "UNAVAILABLE" in text or "RETRIES_EXCEEDED" in text or "failed to connect" in text:
        return (
            "The Spark Connect server does not answer (tried "
            f"{RETRIES + 1} times): check the --spark-remote address and that the cluster is up."
        )
    if "PATH_NOT_FOUND" in condition or "PATH_NOT_FOUND" in text:
        return f"There is no data at {where}: check the path (Spark reads it on its side)."
    if "TABLE_OR_VIEW_NOT_FOUND" in condition or "TABLE_OR_VIEW_NOT_FOUND" in text:
        return f"Spark has no table called {where}: check its name (catalog.schema.table)."
    return f"Spark could not read {where} ({_first_line(exc)})."
