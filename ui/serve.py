"""`python -m ui.serve [streamlit options]`: `streamlit run app.py`, with the warm-up started
at the same time as the server (ui/warm.py), so the first session finds the imports done and
the default view analysed. `make run` serves the dashboard this way.
"""

from __future__ import annotations

import sys
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"


def main(argv: list[str] | None = None) -> int:
    from streamlit.web import cli  # first, so that the warm-up thread never races it

    from ui import warm

    warm.start()

    args = ["run", str(APP), *(sys.argv[1:] if argv is None else argv)]
    return int(cli.main(args=args, prog_name="streamlit", standalone_mode=False) or 0)


if __name__ == "__main__":
    sys.exit(main())
