"""Stores full of jobs for the dashboard's tests and benchmark, made without training anything.

Jobs are queued through `Store.submit` and moved along by the engine's own
store methods (`EngineStore.claim / apply_events / finish`), so they look
exactly as the engine would leave them: metrics, tables, images, logs.
"""

from __future__ import annotations

import math
import random
import time
from pathlib import Path

import numpy as np
from PIL import Image

from runs.engine_store import EngineStore
from runs.records import JobRequest
from runs.studies import zoo


def digit(d: int, size: int = 28) -> np.ndarray:
    """A crude picture of digit `d` (a ring for 0, a bar for 1, ...): good enough to see in a test."""
    img = np.zeros((size, size), dtype=np.uint8)
    yy, xx = np.mgrid[0:size, 0:size]
    if d == 1:
        img[4:24, 12:16] = 255
    else:
        r = 6 + d % 4
        ring = np.abs(np.hypot(yy - 14, xx - 14) - r) < 2
        img[ring] = 200 + 5 * d
    return img


def digit_grid(n: int = 10) -> np.ndarray:
    return np.concatenate([digit(d % 10) for d in range(n)], axis=1)


def finished_train(store: EngineStore, spec: dict, *, accuracy: float, epochs: int = 3, iters: int = 40,
                   status: str = "done", reason: str | None = None, study=None, label=None,
                   image: bool = True, seed_offset: int = 0) -> int:
    (job_id,) = store.submit([JobRequest("train", {**spec, "epochs": epochs}, label=label)], study=study)
    store.claim(job_id, "cpu0", "cpu", None)
    rnd = random.Random(job_id + seed_offset)
    steps = list(range(1, iters * epochs + 1))
    losses = [2.3 * math.exp(-s / (iters * 1.5)) + 0.05 + rnd.random() * 0.05 for s in steps]
    events = [(job_id, "metrics", {"name": "train/loss", "steps": steps, "values": losses})]
    for e in range(1, epochs + 1):
        acc = accuracy - (epochs - e) * 0.02
        events += [(job_id, "metrics", {"name": "train/loss_epoch", "steps": [e], "values": [losses[e * iters - 1]]}),
                   (job_id, "metrics", {"name": "val/loss", "steps": [e], "values": [0.4 / e]}),
                   (job_id, "metrics", {"name": "val/accuracy", "steps": [e], "values": [acc]}),
                   (job_id, "log", {"level": "info", "message": f"epoch {e}/{epochs}: val accuracy {acc:.2%}"})]
    confusion = [[(90 if i == j else rnd.randint(0, 4)) for j in range(10)] for i in range(10)]
    events.append((job_id, "table", {"name": "confusion", "payload": {"rows": "true digit",
                                                                       "columns": "predicted digit",
                                                                       "matrix": confusion}}))
    events.append((job_id, "repro", {"facts": {"versions": {"python": "3.11", "torch": "2.x"}, "seed": spec.get("seed", 0)}}))
    events.append((job_id, "progress", {"fraction": 1.0 if status == "done" else 0.5, "text": f"epoch {epochs}/{epochs}"}))
    if image:
        folder = store.paths.artifacts(job_id)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "samples.png"
        Image.fromarray(digit_grid(10)).save(path)
        events.append((job_id, "artifact", {"name": "samples", "kind": "image", "path": str(path),
                                            "meta": {"caption": "ten test digits"}}))
    store.apply_events(events)
    result = {"test_accuracy": accuracy, "test_loss": 0.4 / epochs, "epochs": epochs} if status == "done" else None
    store.finish(job_id, status, reason=reason, result=result, headline=accuracy if status == "done" else None)
    return job_id


def map_job(store: EngineStore, points: int = 200) -> int:
    """A job with GAN-style metrics and every table shape: a latent map with images, a histogram, curves."""
    (job_id,) = store.submit([JobRequest("train", {"net": "1", "samples": 256, "epochs": 2}, label="maps")])
    store.claim(job_id, "cpu0", "cpu", None)
    rnd = random.Random(7)
    labels = [i % 10 for i in range(points)]
    xs = [(lab % 5) * 10 + rnd.gauss(0, 1.5) for lab in labels]
    ys = [(lab // 5) * 10 + rnd.gauss(0, 1.5) for lab in labels]
    folder = store.paths.artifacts(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    npz = folder / "latent_images.npz"
    np.savez(npz, images=np.stack([digit(lab) for lab in labels]))
    steps = list(range(1, 301))
    events = [
        (job_id, "metrics", {"name": "gan/g_loss", "steps": steps, "values": [1 + math.sin(s / 20) for s in steps]}),
        (job_id, "metrics", {"name": "gan/d_loss", "steps": steps, "values": [0.7 + math.cos(s / 25) / 3 for s in steps]}),
        (job_id, "artifact", {"name": "latent_images", "kind": "file", "path": str(npz), "meta": {}}),
        (job_id, "table", {"name": "latent_map", "payload": {
            "kind": "scatter", "title": "t-SNE of G(z)", "x": xs, "y": ys, "labels": labels,
            "label_name": "digit", "images": {"artifact": "latent_images", "key": "images"}}}),
        (job_id, "table", {"name": "z_histogram", "payload": {
            "kind": "histogram", "title": "z1 and z2", "bins": 12,
            "series": {"z1": [rnd.gauss(0, 1) for _ in range(100)], "z2": [rnd.gauss(0.5, 1) for _ in range(100)]}}}),
        (job_id, "table", {"name": "acc_vs_eps", "payload": {
            "kind": "curves", "title": "accuracy under attack", "x_label": "eps", "y_label": "accuracy",
            "x": [0.2, 0.4, 0.6], "series": {"N1": [0.9, 0.6, 0.3], "N2": [0.85, 0.5, 0.2]}}}),
        (job_id, "table", {"name": "transfer", "payload": {
            "matrix": [[0.1, 0.5], [0.6, 0.2]], "labels": ["N1", "N2"], "rows": "attacked", "columns": "evaluated",
            "color_scale": [0, 1], "diagonal": True}}),
    ]
    store.apply_events(events)
    store.finish(job_id, "done", result={"fid": 12.5}, headline=None)
    return job_id


FGSM_NAMES = ["N1", "N11", "N2", "N22", "N3", "N33"]
FGSM_EPS = [0.2, 0.4, 0.5, 0.7, 0.8, 1.0]


def sample_grid_png(path: Path, rows: int) -> None:
    """A grid as `jobs.imaging.digit_grid` makes it: `rows` rows of the ten digits, 2 px grey padding."""
    pad, tile = 2, 28
    grid = np.full((pad + rows * (tile + pad), pad + 10 * (tile + pad)), 64, dtype=np.uint8)
    for r in range(rows):
        for d in range(10):
            y, x = pad + r * (tile + pad), pad + d * (tile + pad)
            grid[y:y + tile, x:x + tile] = np.clip(digit(d).astype(int) - 25 * r, 0, 255)
    Image.fromarray(grid).save(path)


def fgsm_job(store: EngineStore, nets: list[int], study: tuple[str, str, dict] | None = None) -> int:
    """A finished attack of six nets, reported as `jobs/fgsm.py` reports: a matrix per eps, clean accuracy,
    the own-attack curves, a sample grid per attacked net, and its result dict (in `study`, if given)."""
    (job_id,) = store.submit([JobRequest("fgsm", {"nets": nets, "names": FGSM_NAMES, "tsne_eps": []})], study=study)
    store.claim(job_id, "cpu0", "cpu", None)
    n = len(FGSM_NAMES)
    clean = [0.99 - 0.002 * i for i in range(n)]
    matrices = {f"{e:g}": [[round(max(0.0, (0.35 if a == j else 0.8) - 0.5 * e + 0.01 * j), 4) for j in range(n)]
                           for a in range(n)] for e in FGSM_EPS}
    events = []
    for e in FGSM_EPS:
        events.append((job_id, "table", {"name": f"eps={e:g}", "payload": {
            "matrix": matrices[f"{e:g}"], "labels": FGSM_NAMES, "row_labels": FGSM_NAMES, "rows": "attacked net",
            "columns": "evaluated net", "color_scale": [0, 1], "diagonal": True, "eps": e,
            "title": f"accuracy on FGSM images, eps {e:g} (normalized scale, clamp on)"}}))
    events.append((job_id, "table", {"name": "clean accuracy", "payload": {
        "matrix": [clean], "labels": FGSM_NAMES, "row_labels": ["clean"], "rows": "clean test images",
        "columns": "net", "color_scale": [0, 1]}}))
    folder = store.paths.artifacts(job_id)
    folder.mkdir(parents=True, exist_ok=True)
    for a, name in enumerate(FGSM_NAMES[:2]):
        path = folder / f"samples-{a + 1}-{name}.png"
        sample_grid_png(path, 1 + len(FGSM_EPS))
        events.append((job_id, "artifact", {"name": f"samples-{a + 1}-{name}", "kind": "image", "path": str(path),
                                            "meta": {"caption": f"FGSM through {name}: rows clean, then eps",
                                                     "attacked": name, "rows": ["clean", *FGSM_EPS]}}))
    store.apply_events(events)
    own = {name: [matrices[f"{e:g}"][a][a] for e in FGSM_EPS] for a, name in enumerate(FGSM_NAMES)}
    result = {"white_box_accuracy": sum(v[0] for v in own.values()) / n, "names": FGSM_NAMES, "runs": nets,
              "eps": FGSM_EPS, "scale": "normalized", "clamp": True, "clean_accuracy": dict(zip(FGSM_NAMES, clean)),
              "matrices": matrices, "own_attack": own, "test_images": 10000, "attack_images_per_s": 525200.3, "attack_seconds": 0.1,
              "saturated_fraction": {name: 0.0 for name in FGSM_NAMES}, "wall_time_s": 81.5}
    store.finish(job_id, "done", result=result, headline=result["white_box_accuracy"])
    return job_id


def populate(home: Path, bulk: int = 0, active: bool = True) -> dict[str, int]:
    """A store with one job of every state, a zoo study, a job with every table shape, and `bulk` old runs.

    `active=False` leaves nothing queued or running (for a real engine, which would run them)."""
    store = EngineStore(home)
    ids: dict[str, int] = {}
    ids["done"] = finished_train(store, {"net": "10.1", "samples": 1000, "lr": 0.001}, accuracy=0.9712)
    ids["done2"] = finished_train(store, {"net": "10.1", "samples": 1000, "lr": 0.01}, accuracy=0.9433)
    ids["failed"] = finished_train(store, {"net": "2", "samples": 500}, accuracy=0.5, status="failed",
                                   reason="worker died (SIGKILL: killed, e.g. out of memory)", image=False)
    ids["maps"] = map_job(store)
    # a zoo study: two nets, two seeds; one cell finished, one half-finished
    requests = zoo.plan({"regimes": [1000], "nets": ["1", "10.1"], "seeds": [0, 1]}, {"epochs": 2})
    study_ids = store.submit(requests, study=("zoo", "zoo", {"regimes": [1000], "nets": ["1", "10.1"]}))
    for job_id, acc in zip(study_ids[:3], (0.91, 0.93, 0.95)):
        store.claim(job_id, "cpu0", "cpu", None)
        store.apply_events([(job_id, "metrics", {"name": "val/accuracy", "steps": [1, 2], "values": [acc - 0.02, acc]})])
        store.finish(job_id, "done", result={"test_accuracy": acc}, headline=acc)
    ids["study_queued"] = study_ids[3]
    ids["fgsm"] = fgsm_job(store, [ids["done"], ids["done2"], *study_ids[:3], ids["maps"]])
    if not active:
        store.cancel(study_ids[3])
        store.close()
        return ids
    # running and queued jobs, one waiting on a dependency
    (running,) = store.submit([JobRequest("train", {"net": "1", "samples": 2000, "epochs": 4})])
    store.claim(running, "cpu0", "cpu", None)
    store.apply_events([(running, "metrics", {"name": "train/loss", "steps": list(range(1, 61)),
                                              "values": [2.0 - s / 40 for s in range(1, 61)]}),
                        (running, "progress", {"fraction": 0.4, "text": "epoch 2/4"})])
    ids["running"] = running
    (queued,) = store.submit([JobRequest("train", {"net": "5", "samples": 1000})])
    (waiting,) = store.submit([JobRequest("train", {"net": "7", "samples": 1000}, depends_on=[running])])
    store.set_wait_reasons({queued: "no free slot (all 1 busy: cpu0: job %d)" % running,
                            waiting: "waiting for job %d (running) to finish" % running})
    ids["queued"], ids["waiting"] = queued, waiting
    (cancelled,) = store.submit([JobRequest("train", {"net": "3", "samples": 1000})])
    store.cancel(cancelled)
    ids["cancelled"] = cancelled
    if bulk:
        add_bulk(store, bulk)
    store.close()
    return ids


def add_bulk(store: EngineStore, n: int) -> None:
    """`n` finished runs at once (one transaction), for lists of thousands of rows."""
    nets = ["1", "2", "5", "8.1", "10.1", "11.1", "13.2"]
    requests = [JobRequest("train", {"net": nets[i % len(nets)], "samples": 1000 + i, "seed": i % 5})
                for i in range(n)]
    ids = store.submit(requests)
    now = time.time()
    with store.write() as c:
        seq = store.bump(c)
        c.executemany("UPDATE jobs SET status='done', started_at=?, finished_at=?, progress=1.0, headline=?, "
                      "result=?, seq=? WHERE id=?",
                      [(now - 60, now - 30, 0.9 + (i % 90) / 1000, '{"test_accuracy": %f}' % (0.9 + (i % 90) / 1000),
                        seq, job_id) for i, job_id in enumerate(ids)])
