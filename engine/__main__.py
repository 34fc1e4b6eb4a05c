"""`python -m engine --home DIR`: run the engine in the foreground (what `engine start` spawns)."""

from __future__ import annotations

import argparse
import logging
import sys

from engine.daemon import Engine
from engine.devices import discover
from jobs.datasets import resolve_folder
from runs.db import StoreError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine", description=__doc__)
    parser.add_argument("--home", help="data folder (default: MNISTLAB_HOME or the per-user folder)")
    parser.add_argument("--data", help="MNIST folder workers preload (default: MNISTLAB_DATA or the cache)")
    parser.add_argument("--gpu-slots", type=int, help="worker slots per GPU (default 1)")
    parser.add_argument("--cpu-slots", type=int, help="CPU slots when there is no GPU (default: cores / 4)")
    parser.add_argument("--ready-timeout", type=float, default=180.0,
                        help="seconds a new worker may take to import torch and report ready (default 180)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        slots = discover(args.gpu_slots, args.cpu_slots)
        data = resolve_folder(args.data)[0]
        engine = Engine(args.home, slots, preload_data=str(data), ready_timeout_s=args.ready_timeout)
        return engine.serve()
    except (StoreError, ValueError) as exc:
        logging.error("%s", exc)
        return 2


if __name__ == "__main__":
    sys.exit(main())
