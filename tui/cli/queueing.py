"""Putting requests in the queue from the CLI: checks, engine start, --wait."""

from __future__ import annotations

from engine import control, ray_config
from engine.devices import gpus
from jobs.dataset_download import download
from jobs.datasets import DATASETS, DEFAULT, Verified, display_name, file_names, find, resolve_folder
from jobs.idx_files import DataError, find_file
from jobs.kinds import get_kind
from runs.records import InputError, JobRequest
from runs.refs import check_run_refs
from runs.store import Store
from tui.cli.common import EXIT_FAILED, EXIT_OK, console, err, print_error, print_json
from tui.cli.views import render_job
from tui.cli.waiting import EngineGone, wait_for


def check_placement(requests: list[JobRequest]) -> None:
    """GPU indices and node labels a request asks for must exist where the jobs will run: the running
    engine's slots if it runs on a cluster, else this machine (a Ray engine not started yet: not known)."""
    asked = {r.gpu for r in requests if r.gpu is not None} | {g for r in requests for g in r.exclude_gpus}
    labels = {r.node for r in requests if r.node is not None}
    if not asked and not labels:
        return
    slots = [s for s in engine_slots() if not s.get("lost")]
    if any(s.get("node") for s in slots):
        if any(not s["ready"] for s in slots):
            return  # slots still starting: what they have is not known yet (the scheduler says why a job waits)
        have = sorted({s["gpu"] for s in slots if s.get("gpu") is not None})
        _check_labels(labels, {lb for s in slots for lb in s.get("labels", [])})
        where = "on the engine's cluster nodes"
    elif ray_config.chosen(None):
        return  # the engine will run on Ray: its nodes are not known before it starts
    else:
        if labels:
            raise InputError(f"--node {sorted(labels)[0]} is not allowed here: node labels are those of a Ray "
                             "cluster's nodes, and the engine runs local worker processes (see `engine start --ray`)")
        have, where = [i for i, *_ in gpus()], "here"
    for r in requests:
        if r.gpu is not None and r.gpu not in have:
            raise InputError(f"gpu {r.gpu} is not allowed; allowed: "
                             + (", ".join(map(str, have)) if have else "none (this machine has no CUDA GPU)"))
        if have and r.gpu is None and set(have) <= set(r.exclude_gpus):
            raise InputError(f"--exclude-gpu {','.join(map(str, r.exclude_gpus))} excludes every GPU {where} "
                             f"({', '.join(map(str, have))}); allowed: exclude at most {len(have) - 1}")


def _check_labels(asked: set[str], have: set[str]) -> None:
    for label in sorted(asked - have):
        raise InputError(f"node label {label!r} is not allowed; allowed: {', '.join(sorted(have)) or 'none'} "
                         "(the labels of the engine's nodes: Ray node labels KEY=VALUE and custom resources)")


def engine_slots() -> list[dict]:
    """The slots of the engine that runs for this data folder ([] if none runs)."""
    if control.engine_pid() is None:
        return []
    return (Store().engine_row() or {}).get("slots", [])


def data_folder(dataset: str = DEFAULT) -> Verified:
    """The verified folder jobs of `dataset` will read; refuse to queue work that cannot find its data.

    Checksums are checked here (cached by path, size and mtime, so a second submit hashes
    nothing). With no folder chosen (--data, MNISTLAB_DATA) and the set's cache folder empty,
    a set with mirrors is first downloaded into the cache (a plain download; no torch).
    """
    folder, source = resolve_folder(None, dataset)
    names = file_names(dataset)
    empty = not folder.is_dir() or all(find_file(folder, n) is None for n in names.values())
    if source == "cache" and empty and dataset in DATASETS and DATASETS[dataset].mirrors:
        err.print(f"{display_name(dataset)} is not in {folder} yet: downloading it...")
        return download(dataset, folder)[0]
    try:
        return find(dataset)
    except DataError as exc:
        raise InputError(str(exc)) from None


def _check_data(requests: list[JobRequest]) -> None:
    """Every request's data set is there and verified, and big enough for what the spec asks."""
    found: dict[str, Verified] = {}
    for r in requests:
        spec = get_kind(r.kind).validate(r.spec)  # a bad spec is named before any data is looked at
        if "dataset" not in spec:
            continue
        name = spec["dataset"]
        if name not in found:
            found[name] = data_folder(name)
        verified = found[name]
        r.data_dir = r.data_dir or str(verified.folder)
        train, test = verified.counts
        for field, have in (("samples", train), ("test_images", test)):
            if spec.get(field, 0) > have:
                raise InputError(f"{r.kind} spec, field '{field}': {spec[field]} is more than the {have:,} "
                                 f"{'training' if field == 'samples' else 'test'} images of "
                                 f"{display_name(name)} in {verified.folder}; allowed: at most {have}")


def queue(requests: list[JobRequest], *, study: tuple[str, str, dict] | None = None, start_engine: bool = True) -> list[int]:
    check_placement(requests)
    _check_data(requests)
    store = Store()
    check_run_refs(requests, store)  # fields naming other runs: they exist, are of the right kind, are done
    ids = store.submit(requests, study=study)
    if start_engine:
        try:
            control.start()
        except control.EngineError as exc:
            err.print(f"[yellow]warning:[/] jobs are queued, but the engine did not start: {exc}")
    return ids


def finish_waiting(ids: list[int], as_json: bool) -> int:
    try:
        jobs = wait_for(ids, quiet=as_json)
    except EngineGone as exc:
        print_error(f"{exc}; job(s) {', '.join(map(str, ids))} did not finish")
        return EXIT_FAILED
    store = Store()
    if as_json:
        records = [store.record(i) for i in ids]
        print_json(records[0] if len(records) == 1 else records)
    else:
        for i in ids:
            console.print(render_job(store.record(i), store))
    return EXIT_OK if all(j.status == "done" for j in jobs) else EXIT_FAILED


def announce(ids: list[int], as_json: bool) -> None:
    store = Store()
    jobs = store.jobs(ids=ids)
    if as_json:
        print_json({"ids": ids, "jobs": [j.to_json() for j in jobs]})
        return
    for job in jobs[:12]:
        console.print(f"queued job [bold]{job.id}[/]: {job.kind} {job.short_spec()}")
    if len(jobs) > 12:
        console.print(f"... and {len(jobs) - 12} more (jobs {ids[0]}-{ids[-1]})")
    console.print(f"[dim]watch with `mnistlab follow {ids[0]}`, `mnistlab ls`, or `mnistlab tui`[/]")
