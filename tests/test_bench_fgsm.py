"""`bench fgsm` prints both ratios (per-image loop, floor) from one run, and the implementations agree.

Speed is measured by the benchmark itself; nothing here asserts a time."""

from __future__ import annotations


def test_one_run_prints_both_ratios_and_the_implementations_agree(cli, home):
    result = cli("bench", "fgsm", "--images", "100", "--batch-size", "100", "--eps", "1", "--train-samples", "64",
                 "--reference-images", "5")
    assert result.code == 0, result.err
    out = " ".join(result.out.split())
    assert "per image (tutorial)" in out and "timed on 5 images" in out and "scaled" in out
    assert "ratio per-image / ours:" in out and "ratio ours / floor:" in out
    assert "matrices agree with the per-image loop to 0.0000" in out
