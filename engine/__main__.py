"""`python -m engine --home DIR`: run the engine in the foreground (what `engine start` spawns)."""

from __future__ import annotations

import argparse
import logging
import sys

from engine import ray_config
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
    parser.add_argument("--ray", help="run the slots on a Ray cluster: auto, local or HOST:PORT "
                                      "(default: MNISTLAB_RAY; without either, local worker processes)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        data = str(resolve_folder(args.data)[0])
        ray_target = ray_config.chosen(args.ray)
        if ray_target is None:
            slots, executor = discover(args.gpu_slots, args.cpu_slots), None
        else:
            slots, executor = [], ray_executor(ray_target, args, data)
        engine = Engine(args.home, slots, preload_data=data, executor=executor, ready_timeout_s=args.ready_timeout)
        return engine.serve()
    except (StoreError, ValueError) as exc:
        logging.error("%s", exc)
        return 2


def ray_executor(target: str, args: argparse.Namespace, data: str):
    """The Ray backend's executor (imports Ray); ValueError with what to do if it cannot be had."""
    ray_config.check(target)
    ray_config.require_ray()
    from engine.ray_executor import RayExecutor

    return RayExecutor(target, gpu_slots=args.gpu_slots, cpu_slots=args.cpu_slots, preload_data=data,
                       ready_timeout_s=args.ready_timeout)


if __name__ == "__main__":
    sys.exit(main())
