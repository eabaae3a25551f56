"""The command line: `python -m analytics load|report|pack|init-sample ...`.

Exit status: 0 on success, 2 with one sentence on stderr when the user must fix something
(input, arguments, a database held by a running dashboard), 1 on a fault of ours.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from analytics.core.errors import ScalegateError


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad call as one sentence instead of a usage dump."""

    def error(self, message: str) -> NoReturn:
        raise ScalegateError(f"The command is not right: {message} (see --help).")


def _pairs(values: Sequence[str] | None, what: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values or ():
        key, sep, value = item.rpartition("=")
        if not sep or not key:
            raise ScalegateError(f"{what} takes NAME=VALUE, not {item!r}.")
        pairs[key] = value
    return pairs


def _add_inputs(p: argparse.ArgumentParser, files_required: bool) -> None:
    p.add_argument("files", nargs="+" if files_required else "*", metavar="FILE")
    p.add_argument("--db", help="database file (default data/scalegate.duckdb or SCALEGATE_DB)")
    p.add_argument("--map", action="append", metavar="HEADER=ROLE", help="column role")
    p.add_argument("--phase-map", action="append", metavar="VALUE=PHASE", help="phase value")
    p.add_argument("--catalog", metavar="FILE", help="metric catalog (TOML)")


def _add_analysis(p: argparse.ArgumentParser) -> None:
    _add_inputs(p, files_required=False)
    p.add_argument("--dataset", metavar="NAME|ID", help="stored dataset (default: the latest)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write into")
    p.add_argument("--grain", choices=("week", "month"))
    p.add_argument("--annual-volume", type=float, metavar="N")
    p.add_argument("--run-cost", type=float, metavar="MONEY", help="running cost per year")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m analytics", description="Scalegate from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    load = sub.add_parser("load", help="load files as one dataset and print the report")
    _add_inputs(load, files_required=False)
    load.add_argument("--name", help="dataset name (default: the first file's name)")
    load.add_argument("--strict", action="store_true", help="refuse any file with a bad row")
    load.add_argument(
        "--engine",
        choices=("duckdb", "spark"),
        default="duckdb",
        help="where the day cells are computed (spark: the rows stay in the lake)",
    )
    load.add_argument("--spark-remote", metavar="sc://HOST:PORT", help="Spark Connect server")
    load.add_argument("--table", metavar="NAME", help="a table of the Spark catalog")
    _add_analysis(sub.add_parser("report", help="analyse and write results.json"))
    _add_analysis(sub.add_parser("pack", help="write the board pack, charts and results.json"))
    init = sub.add_parser("init-sample", help="load the bundled sample if nothing is loaded")
    init.add_argument("--db")
    return parser


def _run(args: argparse.Namespace) -> int:
    from analytics.cli import commands

    if args.command == "load" and args.engine == "spark":
        from analytics.cli.spark import load_spark

        return load_spark(
            args.files,
            table=args.table,
            remote=args.spark_remote,
            db=args.db,
            name=args.name,
            mapping=_pairs(args.map, "--map"),
            phase_map=_pairs(args.phase_map, "--phase-map"),
            catalog=Path(args.catalog) if args.catalog else None,
            strict=args.strict,
        )
    if args.command == "load":
        if args.table or args.spark_remote:
            raise ScalegateError("--table and --spark-remote need --engine spark.")
        if not args.files:
            raise ScalegateError("Give at least one file to load (see --help).")
        return commands.load(
            args.files,
            db=args.db,
            name=args.name,
            mapping=_pairs(args.map, "--map"),
            phase_map=_pairs(args.phase_map, "--phase-map"),
            catalog=Path(args.catalog) if args.catalog else None,
            strict=args.strict,
        )
    if args.command in ("report", "pack"):
        return commands.analyse(
            args.files,
            db=args.db,
            dataset=args.dataset,
            out=Path(args.out),
            mapping=_pairs(args.map, "--map"),
            phase_map=_pairs(args.phase_map, "--phase-map"),
            catalog=Path(args.catalog) if args.catalog else None,
            grain=args.grain,
            annual_volume=args.annual_volume,
            run_cost=args.run_cost,
            pack=args.command == "pack",
        )
    return commands.init_sample(db=args.db)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _run(build_parser().parse_args(argv))
    except ScalegateError as exc:
        print(exc.sentence, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted: nothing was changed.", file=sys.stderr)
        return 2
    except Exception:  # a fault of ours: say so, keep the details for a bug report
        print("Scalegate hit an internal error; please report it with this trace:", file=sys.stderr)
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
