"""Malformed specs and options: one clear line, exit 2, nothing queued, no engine started."""

from __future__ import annotations

import errno
import json
import os

import pytest

from engine.control import engine_pid
from runs.records import JobRequest
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
    (["--after", "²"], ["--after", "'²'"]),  # "²".isdigit() is True, int() refuses it
    (["--after", "٣"], ["--after", "'٣'"]),  # int() takes it; an id is ASCII digits
    (["--after", str(2**63)], ["--after", str(2**63), "out of range"]),
    (["--after", "0"], ["--after 0", "out of range"]),
    (["--exclude-gpu", "0,１"], ["--exclude-gpu", "'１'"]),
    (["--samples", "٣٠٠٠"], ["samples", "whole number"]),
    (["--samples", "9" * 5000], ["samples", "out of range", "(5,002 characters)"]),
    (["--lr", "٠.١"], ["lr", "not a number"]),
    (["--seed", str(2**64)], ["seed", "out of range"]),
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
    ("spec.json", '{"net": "1", "net": "2"}', ["'net' twice"]),
    ("spec.json", '{"lr": {"a": 1, "a": 2}}', ["'a' twice"]),
    ("spec.json", '{"batch-size": 32, "batch_size": 64}', ["batch_size", "given twice", "'batch-size'"]),
    ("spec.toml", 'batch-size = 32\nbatch_size = 64\n', ["batch_size", "given twice"]),
    ("spec.toml", 'net = "1"\nnet = "2"\n', ["not valid TOML", "line 2"]),
    ("spec.json", '{"lr": NaN}', ["holds NaN"]),
    ("spec.json", '{"lr": -Infinity}', ["holds -Infinity"]),
    ("spec.toml", "lr = nan\n", ["holds nan"]),
    ("spec.json", '{"samples": 1' + "0" * 5000 + "}", ["4,300 digits"]),
    ("spec.json", '{"samples": 1' + "0" * 400 + "}", ["samples", "out of range"]),
    ("spec.json", '{"lr": ' + "[" * 100000 + "]" * 100000 + "}", ["nested too deeply"]),
    ("spec.json", b'{"net": "\xff1"}', ["not valid UTF-8", "byte 9"]),
    ("spec.json", '{"net": "99"}'.encode("utf-16"), ["net", "'99'"]),  # read, then refused for its value
    ("spec.json", b'\xff\xfe{\x00"', ["not valid UTF-16"]),  # a BOM, a brace, then half a character
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


@pytest.mark.parametrize("args,words", BAD_OPTIONS, ids=[" ".join(a)[:40] for a, _ in BAD_OPTIONS])
def test_bad_submit_option_is_refused(home, cli, args, words):
    _assert_refused(cli("submit", "train", *args), words)
    assert Store(home).jobs() == []
    assert engine_pid(home) is None


def _spec_file(path, content):
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize("name,content,words", BAD_SPEC_FILES, ids=[repr(c[:40]) for _, c, _ in BAD_SPEC_FILES])
def test_bad_spec_file_is_refused(home, cli, tmp_path, name, content, words):
    _assert_refused(cli("submit", "train", "--spec", _spec_file(tmp_path / name, content)), words)
    assert Store(home).jobs() == []


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_a_spec_file_in_any_unicode_encoding_is_read(home, cli, tmp_path, encoding):
    """Read, decoded, validated: the one thing refused is the --after job that does not exist."""
    path = tmp_path / "spec.json"
    path.write_bytes('{"net": "10.1", "batch-size": 32, "kind": "train"}'.encode(encoding))
    _assert_refused(cli("submit", "train", "--spec", path, "--after", "999"), ["cannot depend on job(s) 999"])
    toml = tmp_path / "spec.toml"
    toml.write_bytes('net = "10.1"  # ünïcode\nbatch-size = 32\n'.encode(encoding))
    _assert_refused(cli("submit", "train", "--spec", toml, "--after", "999"), ["cannot depend on job(s) 999"])
    assert Store(home).jobs() == []


def test_a_spec_file_that_is_not_a_file_is_refused(home, cli, tmp_path):
    _assert_refused(cli("submit", "train", "--spec", tmp_path), ["not a regular file"])
    _assert_refused(cli("submit", "train", "--spec", "/dev/zero"), ["not a regular file"])
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (2 << 20) + b"{}")
    _assert_refused(cli("submit", "train", "--spec", big), ["larger than 1024 KiB"])


def test_missing_spec_file_is_refused(home, cli, tmp_path):
    _assert_refused(cli("submit", "train", "--spec", tmp_path / "nope.json"), ["cannot read spec file", "nope.json"])


@pytest.mark.parametrize("args,words", BAD_STUDIES, ids=[" ".join(a) for a, _ in BAD_STUDIES])
def test_bad_study_options_are_refused(home, cli, args, words):
    _assert_refused(cli("study", "zoo", *args), words)
    assert Store(home).jobs() == [] and Store(home).studies() == []


def test_unknown_kind_and_ids(home, cli):
    result = cli("submit", "teleport")
    assert result.code == 2 and "No such command 'teleport'" in result.err
    for args in (["show", "42"], ["cancel", "42"], ["retry", "42"], ["follow", "42"], ["show", "abc"],
                 ["compare", "1"], ["export", "7", "--format", "xls"], ["study", "show", "nothing"]):
        result = cli(*args)
        assert result.code == 2, (args, result)
        assert result.err.startswith("error: ") and result.err.count("\n") == 1, (args, result.err)
    assert "no job 42" in cli("show", "42").err


BIG = str(2**63)
BAD_IDS = [  # (command line, words the error must contain); the store has jobs 1 and 2
    (["show", "²"], ["job id '²'", "positive whole number"]),
    (["show", "٣"], ["job id '٣'"]),
    (["show", "７"], ["job id '７'"]),
    (["show", BIG], [f"job id {BIG} is out of range", "9223372036854775807"]),
    (["show", str(2**63 - 1)], [f"no job {2**63 - 1}", "from 1 to 2"]),
    (["show", "1,2"], ["'1,2'", "one job id"]),
    (["show", "1e3"], ["'1e3'"]),
    (["show", "0"], ["job id 0 is out of range"]),
    (["show", " "], ["no job id given"]),
    (["logs", BIG], ["out of range"]),
    (["priority", str(2**64), "5"], ["out of range"]),
    (["follow", BIG], ["out of range"]),
    (["compare", "1", BIG], ["out of range"]),
    (["export", "1", "2,²"], ["'²'"]),
    (["cancel", "1", "99"], ["no job 99"]),  # and job 1 stays queued
    (["retry", "1,99"], ["no job 99"]),
    (["gan", "show", BIG], [f"no job {BIG}"]),
    (["submit", "fgsm", "--nets", f"{BIG},1"], ["nets", "out of range"]),
    (["submit", "ganmap", "--gan-run", BIG, "--classifier-run", "1"], ["gan_run", "out of range"]),
    (["study", "gan", "--gan-run", BIG], ["gan_run", "out of range"]),
    (["ls", "--limit", str(2**64)], ["--limit", "1000000"]),
    (["logs", "1", "--limit", "0"], ["--limit", "greater than or equal to 1"]),
]


@pytest.mark.parametrize("args,words", BAD_IDS, ids=[" ".join(a)[:40] for a, _ in BAD_IDS])
def test_bad_ids_and_limits_are_refused_in_one_line(home, cli, args, words):
    store = Store(home)
    store.submit([JobRequest("train", {"net": "1"}), JobRequest("train", {"net": "2"})])
    before = [j.to_json() for j in store.jobs()]
    result = cli(*args)
    assert result.code == 2, result
    text = " ".join(result.err.split())
    assert all(word in text for word in words), result.err
    assert "Traceback" not in result.err and result.out == ""
    assert [j.to_json() for j in store.jobs()] == before
    assert engine_pid(home) is None


@pytest.fixture
def one_job(home):
    Store(home).submit([JobRequest("train", {"net": "1"})])
    return home


@pytest.mark.parametrize("where,words", [
    ("missing/out.json", ["the folder", "missing", "does not exist"]),
    (".", ["is a folder"]),
    ("a-file/out.json", ["a-file is a file, not a folder"]),
    ("a-file/deeper/out.json", ["a-file is a file, not a folder"]),
    ("x" * 300, ["File name too long"]),
])
def test_export_out_that_cannot_be_a_file_is_refused(one_job, cli, tmp_path, where, words):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a-file").write_text("mine\n")
    _assert_refused(cli("export", "1", "--out", folder / where), ["--out", *words, "allowed"])
    assert [p.name for p in folder.iterdir()] == ["a-file"] and (folder / "a-file").read_text() == "mine\n"


def test_export_out_onto_a_device_is_refused(one_job, cli):
    _assert_refused(cli("export", "1", "--out", "/dev/null"), ["/dev/null is not a regular file"])


def test_export_is_written_whole_or_not_at_all(one_job, cli, tmp_path, monkeypatch):
    folder = tmp_path / "exports"
    folder.mkdir()
    out = folder / "job.json"
    out.write_text("the previous export\n")
    real_fsync = os.fsync

    def disk_full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", disk_full)
    result = cli("export", "1", "--out", out)
    assert result.code == 1 and result.err.count("\n") == 1, result
    assert f"could not write {out}: No space left on device; nothing was written" in " ".join(result.err.split())
    assert out.read_text() == "the previous export\n" and [p.name for p in folder.iterdir()] == ["job.json"]

    monkeypatch.setattr(os, "fsync", real_fsync)
    result = cli("export", "1", "--out", out)
    assert result.code == 0 and json.loads(out.read_text())["id"] == 1
    assert [p.name for p in folder.iterdir()] == ["job.json"]  # no temporary file left behind


def test_fifty_malformed_specs_leave_the_queue_empty(home, cli, tmp_path):
    """The issue's bar: at least 50 malformed specs, each refused, nothing queued."""
    refused = 0
    for args, _ in BAD_OPTIONS:
        refused += cli("submit", "train", *args).code == 2
    for i, (name, content, _) in enumerate(BAD_SPEC_FILES):
        path = _spec_file(tmp_path / f"{i}-{name}", content)
        refused += cli("submit", "train", "--spec", path).code == 2
    for args, _ in BAD_STUDIES:
        refused += cli("study", "zoo", *args).code == 2
    assert refused == len(BAD_OPTIONS) + len(BAD_SPEC_FILES) + len(BAD_STUDIES) >= 50
    assert Store(home).jobs() == []
    assert json.loads(cli("ls", "--json").out) == []
