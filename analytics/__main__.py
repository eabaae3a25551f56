"""The command line: `python -m analytics load|report|pack|watch|decisions|init-sample ...`.

Exit status: 0 on success, 2 with one sentence on stderr when the user must fix something
(input, arguments, a database held by a running dashboard), 1 on a fault of ours; `watch` exits
3 when an alert is open.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from analytics.cli.amounts import parse_amount
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


def _amount(flag: str) -> Callable[[str], float]:
    """An argparse type reading amounts as people type them ("£250,000"), or one sentence."""
    return lambda text: parse_amount(text, flag)


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
    p.add_argument("--annual-volume", type=_amount("--annual-volume"), metavar="N")
    p.add_argument(
        "--run-cost", type=_amount("--run-cost"), metavar="MONEY", help="running cost per year"
    )
    p.add_argument(
        "--value-per-unit",
        action="append",
        metavar="METRIC=AMOUNT",
        help="money per unit of an outcome per case, for value at scale",
    )


def build_parser(prog: str = "python -m analytics") -> argparse.ArgumentParser:
    parser = _Parser(prog=prog, description="Scalegate from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    load = sub.add_parser("load", help="load files as one dataset and print the report")
    _add_inputs(load, files_required=False)
    load.add_argument("--name", help="dataset name (default: the first file's name)")
    load.add_argument("--strict", action="store_true", help="refuse any file with a bad row")
    load.add_argument("--append", metavar="NAME|ID", help="add the rows to this stored dataset")
    load.add_argument(
        "--replace-overlap", action="store_true", help="with --append: replace days already held"
    )
    load.add_argument(
        "--dates",
        choices=("auto", "day-first", "month-first"),
        default="auto",
        help="how to read dates such as 03/04/2024 (default: decided from the whole column)",
    )
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
    watch = sub.add_parser("watch", help="compare production with the latest decision")
    watch.add_argument("--db", help="database file (default data/scalegate.duckdb or SCALEGATE_DB)")
    watch.add_argument("--dataset", metavar="NAME|ID", help="stored dataset (default: the latest)")
    watch.add_argument("--out", metavar="DIR", help="folder to write alerts.json into")
    watch.add_argument("--as-of", metavar="YYYY-MM-DD", help="the day of the check (default today)")
    init = sub.add_parser("init-sample", help="load the bundled sample if nothing is loaded")
    init.add_argument("--db")
    _add_decisions(sub.add_parser("decisions", help="export or import the decision log"))
    return parser


def _add_decisions(p: argparse.ArgumentParser) -> None:
    verbs = p.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    export = verbs.add_parser("export", help="write every decision with its snapshot")
    export.add_argument("--db", help="database file (default data/scalegate.duckdb)")
    export.add_argument("--out", required=True, metavar="FILE", help=".jsonl or .csv")
    into = verbs.add_parser("import", help="add the decisions of an exported log")
    into.add_argument("file", metavar="FILE", help=".jsonl or .csv written by export")
    into.add_argument("--db", help="database file (default data/scalegate.duckdb)")


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
    if args.command == "load" and (args.append or args.replace_overlap):
        return commands.append(
            args.files,
            db=args.db,
            dataset=args.append,
            replace_overlap=args.replace_overlap,
            strict=args.strict,
            other_options=bool(args.name or args.map or args.phase_map or args.catalog),
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
            date_order=args.dates,
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
            value_per_unit=_pairs(args.value_per_unit, "--value-per-unit"),
        )
    if args.command == "decisions":
        if args.verb == "export":
            return commands.export_decisions(db=args.db, out=Path(args.out))
        return commands.import_decisions(Path(args.file), db=args.db)
    if args.command == "watch":
        return commands.watch(db=args.db, dataset=args.dataset, out=args.out, as_of=args.as_of)
    return commands.init_sample(db=args.db)


def _db_of(args: argparse.Namespace | None) -> str:
    from analytics.store.database import DEFAULT_DB

    return getattr(args, "db", None) or os.environ.get("SCALEGATE_DB") or str(DEFAULT_DB)


def main(argv: Sequence[str] | None = None, prog: str = "python -m analytics") -> int:
    args = None
    try:
        args = build_parser(prog).parse_args(argv)
        return _run(args)
    except ScalegateError as exc:
        print(exc.sentence, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrupted: nothing was changed.", file=sys.stderr)
        return 2
    except Exception as exc:
        from analytics.store.file_check import corrupt, damaged

        if corrupt(exc):  # a damaged block met while reading: the file's fault, not ours
            print(damaged(_db_of(args)).sentence, file=sys.stderr)
            return 2
        # A fault of ours: say so, keep the details for a bug report.
        print("Scalegate hit an internal error; please report it with this trace:", file=sys.stderr)
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    sys.exit(main())
