"""`bench scale` with tiny stores: the report's shape, and that its numbers come from what really ran.

Speed is the benchmark's business; nothing here asserts a time or a goal."""

from __future__ import annotations

import json

import pytest

from tui.cli.bench_scale import METRICS


def test_tiny_stores_give_real_numbers_and_ratios_of_them(cli, home, tmp_path):
    out = tmp_path / "scale.json"
    result = cli("bench", "scale", "--small-runs", "20", "--small-queued", "6", "--large-runs", "300",
                 "--large-queued", "9", "--repeats", "1", "--seconds", "0.5", "--warmup", "1", "--measured", "3",
                 "--stream-samples", "256", "--json", "--out", str(out))
    assert result.code == 0, result.err
    results = result.json()
    assert json.loads(out.read_text()) == results

    small, large = results["stores"]["small"], results["stores"]["large"]
    assert (small["runs"], small["queued"], large["runs"], large["queued"]) == (20, 6, 300, 9)
    for store in (small, large):
        assert store["ls"]["ls_s"] > 0 and store["ls"]["ls_done_s"] > 0
        ui = store["dashboard"]
        assert len(ui["first_paints_s"]) == 1 and ui["first_paint_s"] > 0
        assert ui["cpu_percent"] is not None and ui["cpu_percent"] >= 0
        assert ui["stream_metric_rows"] > 0  # the job did stream while the dashboard was measured
        engine = store["engine"]
        assert engine["failed"] == 0 and engine["done"] >= 4  # warm-up and measured short jobs really ran
        assert engine["jobs_measured"] >= 3 and engine["gaps_measured"] >= 2
        assert 0 <= engine["gap_median_ms"] <= engine["gap_p95_ms"] <= engine["gap_max_ms"]
        assert engine["jobs_per_minute"] > 0

    rows = {r["metric"]: r for r in results["rows"]}
    assert list(rows) == [m.key for m in METRICS]
    for key, row in rows.items():
        part, name = key.split(".")
        assert row["small"] == small[part][name] and row["large"] == large[part][name]
        if row["small"]:
            assert row["ratio"] == pytest.approx(row["large"] / row["small"])
            below = row["goal_below"] is None or row["large"] < row["goal_below"]
            assert row["met"] == (row["ratio"] <= 1.5 and below)
    assert rows["dashboard.first_paint_s"]["goal_below"] == 0.5 and rows["engine.gap_median_ms"]["goal_below"] == 20
    assert results["machine"]["load_average_before"]


def test_a_queue_shorter_than_the_measure_is_refused_before_any_work(cli, home):
    result = cli("bench", "scale", "--small-queued", "4", "--warmup", "2", "--measured", "3")
    assert result.code == 2
    assert "--small-queued" in result.err and "at least --warmup + --measured (5)" in result.err


@pytest.mark.parametrize("samples, batch_size, epochs", [(1000, 64, 10), (7000, 64, 3), (1000, 8, 1), (1000, 8, 4),
                                                        (60000, 64, 2)])
def test_the_store_bench_counts_curve_points_as_the_thinning_rule_keeps_them(tmp_path, samples, batch_size, epochs):
    """`bench store` derives the defaults' metric rows from `curve_points`; it must agree with the context."""
    from engine.bench_store import POINTS_PER_PAST_EPOCH, curve_points, iterations
    from jobs import context
    from jobs.training import batch_starts

    assert POINTS_PER_PAST_EPOCH == context.POINTS_PER_PAST_EPOCH
    per_epoch = len(batch_starts(samples, batch_size))
    assert iterations(samples, batch_size) == per_epoch
    ctx = context.LocalContext(spec={}, artifact_dir=tmp_path)
    step = 0
    for epoch in range(epochs):
        ctx.metrics("train/loss", range(step + 1, step + per_epoch + 1), [float(i % 7) for i in range(per_epoch)])
        step += per_epoch
        if epoch + 1 < epochs:
            ctx.thin_epoch("train/loss", step - per_epoch + 1, step)
    assert len(ctx.series("train/loss")) == curve_points(samples, batch_size, epochs)
