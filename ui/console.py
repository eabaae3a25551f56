"""`scalegate`, the console command an install puts on the PATH (pyproject's [project.scripts]).

`scalegate run [streamlit options]` starts the dashboard as `make run` does: the bundled sample
loaded when nothing is loaded yet, then `python -m ui.serve` on 127.0.0.1 (port 8501 unless
`--server.port N` says otherwise). Every other command is `python -m analytics`'s, under this name:
`scalegate load FILE`, `scalegate report --out DIR`, `scalegate pack`, `scalegate watch`...
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from analytics.__main__ import main as cli_main

RUN = "scalegate run [--server.port N ...]: the dashboard in the browser, as `make run` starts it"
# What `make run` gives `streamlit run`; options given after `run` come later and win.
SERVER = ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]


def run(options: Sequence[str] = ()) -> int:
    """The sample loaded if the database holds nothing, then the dashboard served until Ctrl-C."""
    status = cli_main(["init-sample"])
    if status:
        return status
    from ui import serve  # Streamlit is imported only for the dashboard, not for the CLI

    return serve.main([*SERVER, *options])


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] in (["run"], ["app"]):
        return run(args[1:])
    if not args or args[0] in ("-h", "--help"):
        print(RUN)
        args = args or ["--help"]
    return cli_main(args, prog="scalegate")


if __name__ == "__main__":
    sys.exit(main())
