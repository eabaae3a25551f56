"""`python -m ui.serve [streamlit options]`: `streamlit run app.py`, warmed first (ui/warm.py):
the first page's imports and the default view's Home analysis are done before the server binds
its port, so the health check answers only when the first session can be served as fast as any
other; the rest of the warm-up (the full analysis, the other pages' imports) runs in the
background. `make run` serves the dashboard this way.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(argv: list[str] | None = None) -> int:
    from streamlit.web import cli  # first, so that the warm-up thread never races it

    from ui import uploads, warm

    warm.prepare()  # before the port is bound: the health check means "ready"
    uploads.remove_orphans()  # uploads held in memory by a server that died
    warm.start()

    args = ["run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    return int(cli.main(args=args, prog_name="streamlit", standalone_mode=False) or 0)


if __name__ == "__main__":
    sys.exit(main())
