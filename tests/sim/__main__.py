"""python -m tests.sim [--runs N] [--only a,b,...]: the rates of every scenario, with intervals."""

from __future__ import annotations

import argparse
import time

from threadpoolctl import threadpool_limits

from tests.sim import SCENARIOS


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.sim")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--only", default=",".join(SCENARIOS))
    args = parser.parse_args()
    with threadpool_limits(limits=1, user_api="blas"):
        for key in args.only.split(","):
            started = time.perf_counter()
            rates = SCENARIOS[key](args.runs)
            print(f"[{key}] ({time.perf_counter() - started:.0f} s)", flush=True)
            for name, rate in rates.items():
                print(f"    {name}: {rate}", flush=True)


if __name__ == "__main__":
    main()
