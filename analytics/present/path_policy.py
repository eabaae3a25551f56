"""Local file paths: allowed only for an analyst running the app on their own machine."""

from __future__ import annotations

LOCAL_ADDRESSES = frozenset({"localhost", "127.0.0.1", "::1"})


def local_paths_allowed(server_address: str | None, setting: str | None) -> bool:
    """Whether the server may read its own disk for a user: only when it serves on this machine
    alone, or SCALEGATE_ALLOW_LOCAL_PATHS=1 says so. A browser user of a shared server must never
    reach the server's files."""
    return (server_address or "").strip().lower() in LOCAL_ADDRESSES or (setting or "") == "1"
