"""Malformed specs and options: one clear line, exit 2, nothing queued, no engine started."""

from __future__ import annotations

import json

import pytest

from engine.control import engine_pid
from runs.store import Store

# (command-line arguments, words the error must contain)
BAD_OPTIONS = [
    (["--net", "99"], ["net", "'99'", "10.1"]),
    (["--net", ""], ["net"]),
    (["--net", "8.3"], ["net", "8.3"]),
    (["--net", "n1"], ["net", "N1"]),
    (["--samples", "0"], ["samples", "1 to 60000"]),
    (["--samples", "-5"], ["samples", "-5"]),
    (["--samples", "60001"], ["samples", "60000"]),
    (["--samples", "1e12"], ["samples"]),
    (["--samples", "abc"], ["samples", "whole number"]),
    (["--samples", "1.5"], ["samples", "whole number"]),
    (["--epochs", "0"], ["epochs", "1 to 1000"]),
    (["--epochs", "-1"], ["epochs"]),
    (["--epochs", "100000"], ["epochs", "1000"]),
    (["--epochs", "ten"], ["epochs"]),
    (["--batch-size", "0"], ["batch_size"]),
    (["--batch-size", "2000"], ["batch_size", "samples"]),
    (["--batch-size", "1.5"], ["batch_size"]),
    (["--lr", "0"], ["lr", "greater than 0"]),
    (["--lr", "-0.1"], ["lr"]),
    (["--lr", "nan"], ["lr", "not a number"]),
    (["--lr", "inf"], ["lr"]),
    (["--lr", "11"], ["lr", "10"]),
    (["--lr", "fast"], ["lr"]),
    (["--momentum", "1.5"], ["momentum"]),
    (["--momentum", "-0.1"], ["momentum"]),
    (["--weight-decay", "-1"], ["weight_decay"]),
    (["--weight-decay", "2"], ["weight_decay"]),
    (["--seed", "-1"], ["seed"]),
    (["--seed", str(2**31)], ["seed"]),
    (["--seed", "x"], ["seed"]),
    (["--priority", "5000"], ["priority", "-1000 to 1000"]),
    (["--max-attempts", "0"], ["max_attempts", "1 to 10"]),
    (["--max-attempts", "11"], ["max_attempts"]),
    (["--gpu", "99"], ["gpu 99", "allowed"]),
    (["--gpu", "-1"], ["gpu"]),
    (["--exclude-gpu", "a"], ["--exclude-gpu", "'a'"]),
    (["--node", "bigmem"], ["--node bigmem", "Ray cluster", "local worker processes"]),
    (["--after", "999"], ["999", "no such job"]),
    (["--after", "x"], ["--after", "'x'"]),
    (["--foo", "1"], ["No such option"]),
]

BAD_SPEC_FILES = [
    ("spec.json", "{not json", ["not valid JSON"]),
    ("spec.json", "[1, 2]", ["list", "object"]),
    ("spec.json", '{"net": "10.1", "colour": "red"}', ["colour", "unknown field"]),
    ("spec.json", '{"kind": "gan"}', ["kind", "gan"]),
    ("spec.json", '{"net": 99}', ["net", "99"]),
    ("spec.json", '{"samples": "many"}', ["samples"]),
    ("spec.json", '{"epochs": true}', ["epochs"]),
    ("spec.toml", "net = [", ["not valid TOML"]),
    ("spec.json", '{"lr": {"value": 1}}', ["lr"]),
    ("spec.json", '{"samples": [1000]}', ["samples"]),
    ("spec.json", '{"net": "10.1", "batch_size": 5000}', ["batch_size"]),
]

BAD_STUDIES = [
    (["--regime", "0"], ["regimes"]),
    (["--nets", "1,99"], ["nets", "99"]),
    (["--seeds", "-1"], ["seeds"]),
    (["--regime", "1000,1000"], ["regimes", "repeats"]),
    (["--regime", "1000", "--epochs", "0"], ["epochs"]),
]


def _assert_refused(result, words):
    assert result.code == 2, (result.code, result.out, result.err)
    text = " ".join(result.err.split())
    for word in words:
        assert word in text, f"{word!r} missing from error: {result.err}"
    assert result.out == ""


@pytest.mark.parametrize("args,words", BAD_OPTIONS, ids=[" ".join(a) for a, _ in BAD_OPTIONS])
def test_bad_submit_option_is_refused(home, cli, args, words):
    _assert_refused(cli("submit", "train", *args), words)
    assert Store(home).jobs() == []
    assert engine_pid(home) is None


@pytest.mark.parametrize("name,content,words", BAD_SPEC_FILES, ids=[c for _, c, _ in BAD_SPEC_FILES])
def test_bad_spec_file_is_refused(home, cli, tmp_path, name, content, words):
    path = tmp_path / name
    path.write_text(content)
    _assert_refused(cli("submit", "train", "--spec", path), words)
    assert Store(home).jobs() == []


def test_missing_spec_file_is_refused(home, cli, tmp_path):
    _assert_refused(cli("submit", "train", "--spec", tmp_path / "nope.json"), ["cannot read spec file", "nope.json"])


@pytest.mark.parametrize("args,words", BAD_STUDIES, ids=[" ".join(a) for a, _ in BAD_STUDIES])
def test_bad_study_options_are_refused(home, cli, args, words):
    _assert_refused(cli("study", "zoo", *args), words)
    assert Store(home).jobs() == [] and Store(home).studies() == []


def test_unknown_kind_and_ids(home, cli):
    assert cli("submit", "teleport").code == 2
    for args in (["show", "42"], ["cancel", "42"], ["retry", "42"], ["follow", "42"], ["show", "abc"],
                 ["compare", "1"], ["export", "7", "--format", "xls"], ["study", "show", "nothing"]):
        result = cli(*args)
        assert result.code == 2, (args, result)
        assert "error" in result.err.lower() or "usage" in result.err.lower()
    assert "no job 42" in cli("show", "42").err


def test_fifty_malformed_specs_leave_the_queue_empty(home, cli, tmp_path):
    """The issue's bar: at least 50 malformed specs, each refused, nothing queued."""
    refused = 0
    for args, _ in BAD_OPTIONS:
        refused += cli("submit", "train", *args).code == 2
    for i, (name, content, _) in enumerate(BAD_SPEC_FILES):
        path = tmp_path / f"{i}-{name}"
        path.write_text(content)
        refused += cli("submit", "train", "--spec", path).code == 2
    for args, _ in BAD_STUDIES:
        refused += cli("study", "zoo", *args).code == 2
    assert refused == len(BAD_OPTIONS) + len(BAD_SPEC_FILES) + len(BAD_STUDIES) >= 50
    assert Store(home).jobs() == []
    assert json.loads(cli("ls", "--json").out) == []
