"""Fuzzing the CLI's ids, integer lists, spec files and paths (hypothesis, derandomized: the same
examples every run). Each answer is exit 0 where the input was valid, else one line and exit 2; never
a traceback, never a job queued or changed, never an engine started.

The store holds one job, id 1, already done: every command taking ids is then read-only or refused,
whatever the id, so a valid input may run and the store must still be byte-for-byte what it was.
"""

from __future__ import annotations

import json
import os
import re

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from engine.control import engine_pid
from runs.records import JobRequest
from runs.store import Store

MAX_ID = 2**63 - 1
# Derandomized: the same examples on every run and machine; bounded: about 300 CLI calls in all, a few seconds.
FUZZ = settings(derandomize=True, database=None, deadline=None, print_blob=False,
                suppress_health_check=[HealthCheck.too_slow])

# Digits Python's int() or str.isdigit() take but an id does not: superscript, Arabic-Indic, fullwidth,
# Devanagari, mathematical bold. And the edges of SQLite's integer range.
UNICODE_DIGITS = "²³¹٠٣٩０７９४𝟕"
TRICKY_NUMBERS = ["0", "1", "01", "007", "-1", "+1", "1e3", "1.0", "1_000", " 1 ", "", " ", ",", "1,", ",1", "1,,1",
                  str(MAX_ID), str(MAX_ID + 1), str(2**64), "9" * 40, "9" * 5000, "0" * 30 + "1", "NaN", "inf"]
number_text = st.one_of(
    st.sampled_from(TRICKY_NUMBERS),
    st.integers(-(2**70), 2**70).map(str),
    st.text(alphabet="0123456789" + UNICODE_DIGITS + " ,+-e._\u00a0", max_size=12),
).filter(lambda t: t != "--")  # click's end-of-options marker, not an argument
number_list = st.lists(number_text, min_size=1, max_size=4).map(",".join)


@pytest.fixture
def lab(home, cli):
    """A store with job 1 done; `run(*args)` runs the CLI and checks that nothing changed."""
    store = Store(home)
    store.submit([JobRequest("train", {"net": "1"})])
    with store.write() as c:
        c.execute("UPDATE jobs SET status = 'done', result = '{}' WHERE id = 1")
    before = [j.to_json() for j in store.jobs()]
    seq = store.seq()

    def run(*args):
        result = cli(*args)
        assert "Traceback" not in result.err, (args, result.err)
        if result.code != 0:
            assert result.code == 2, (args, result)
            one_line = result.err.startswith("error: ") and result.err.count("\n") == 1
            assert one_line or ("Usage:" in result.err and "Error:" in result.err), (args, result.err)
        assert [j.to_json() for j in store.jobs()] == before and store.seq() == seq, args
        assert engine_pid(home) is None, args
        return result

    return run


def ids_in(text: str) -> list[int] | None:
    """The ids a job-id argument names, or None if it is not allowed (the rule the CLI must follow)."""
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not all(re.fullmatch(r"[0-9]+", p) for p in parts):
        return None
    ids = [int(p) if len(p) < 100 else MAX_ID + 1 for p in parts]  # int() refuses 4,300+ digits
    return ids if all(1 <= i <= MAX_ID for i in ids) else None


@pytest.mark.parametrize("command", ["show", "logs", "follow", "priority", "cancel", "retry", "compare", "export"])
def test_job_ids(lab, command):
    single = command in ("show", "logs", "follow", "priority")
    @settings(FUZZ, max_examples=12)
    @given(st.lists(number_text if single else st.one_of(number_text, number_list), min_size=1,
                    max_size=1 if single else 3))
    @example(["²"])
    @example([str(MAX_ID + 1)])
    @example(["١"])
    @example(["1"])
    def check(args):
        extra = ["5"] if command == "priority" else []
        result = lab(command, *args, *extra)
        named = [ids_in(a) for a in args]
        ids = [i for group in named if group is not None for i in group]
        valid = None not in named and len(ids) == (1 if single else len(ids)) and set(ids) <= {1}
        runs = valid and ids and command in ("show", "logs", "follow", "export") or (
            valid and command == "compare" and len(ids) >= 2)
        assert (result.code == 0) == bool(runs), (args, result)
        if None in named and not any(a.lstrip().startswith("-") for a in args):
            assert "job id" in result.err, (args, result.err)  # the bad one is named

    check()


@pytest.mark.parametrize("option,low", [("--after", 1), ("--exclude-gpu", 0)])
def test_integer_lists(lab, option, low):
    @settings(FUZZ, max_examples=25)
    @given(number_list)
    @example("0,²")
    @example(f"1,{MAX_ID + 1}")
    @example("")
    def check(text):
        # net 99 does not exist: a list that parses is followed by that refusal, so nothing is queued
        result = lab("submit", "train", "--net", "99", f"{option}={text}")
        parts = [p.strip() for p in text.split(",") if p.strip()]
        ok = all(re.fullmatch(r"[0-9]+", p) and len(p) < 100 and low <= int(p) <= MAX_ID for p in parts)
        assert result.code == 2
        assert ("field 'net'" if ok else option) in result.err, (text, result.err)

    check()


def test_run_id_lists(lab):
    @settings(FUZZ, max_examples=25)
    @given(number_list)
    @example(f"{MAX_ID + 1},1")
    def check(text):
        result = lab("submit", "fgsm", f"--nets={text}")  # one finished train run: never enough to attack
        assert result.code == 2 and "field 'nets'" in result.err, (text, result.err)

    check()


# -- spec files: valid fields plus at most one defect, in any encoding -----------------------------------

VALID_FIELDS = st.fixed_dictionaries({
    "net": st.sampled_from(['"1"', '"10.1"', '"N3"']),
    "samples": st.integers(1000, 60000).map(str),
    "epochs": st.integers(1, 1000).map(str),
    "batch": st.tuples(st.sampled_from(["batch_size", "batch-size"]), st.integers(1, 1000).map(str)),
    "lr": st.floats(1e-4, 1.0).map(repr),
    "seed": st.integers(0, 2**31 - 1).map(str),
})
DEFECTS = {  # defect -> (the (key, JSON value) pairs it adds, words of the error in JSON, in TOML)
    "none": ([], "cannot depend on job(s) 999999", "cannot depend on job(s) 999999"),
    "same key twice": ([("seed", "7"), ("seed", "8")], "'seed' twice", "not valid TOML"),
    "two spellings": ([("batch_size", "64"), ("batch-size", "64")], "given twice", "given twice"),
    "NaN": ([("lr", "NaN")], "holds NaN", "holds nan"),
    "Infinity": ([("lr", "-Infinity")], "holds -Infinity", "holds -inf"),
    "5,000 digits": ([("samples", "9" * 5000)], "4,300 digits", "4,300 digits"),
    "huge number": ([("samples", "1" + "0" * 30)], "out of range", "out of range"),
    "huge float": ([("lr", "1e999")], "field 'lr'", "field 'lr'"),
    "nested": ([("epochs", '{"a": [1, {"b": [2]}]}')], "field 'epochs'", "field 'epochs'"),
    "unknown key": ([("colour", '"red"')], "unknown field", "unknown field"),
    "other kind": ([("kind", '"gan"')], "is for kind 'gan'", "is for kind 'gan'"),
    "control character": ([("net", '"1\\u0007"')], "field 'net'", "field 'net'"),
}
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "broken utf-8"]


def spec_text(fields: dict, extra: list[tuple[str, str]], toml: bool) -> str:
    pairs = [(k, v) for k, v in fields.items() if k != "batch"] + [fields["batch"]]
    pairs = [(k, v) for k, v in pairs if k not in {e for e, _ in extra}] + extra
    if toml:
        def value(v: str) -> str:
            v = v.replace("NaN", "nan").replace("-Infinity", "-inf").replace("1e999", "inf")
            return v.replace('{"a": [1, {"b": [2]}]}', "{a = [1, {b = [2]}]}")
        return "".join(f'"{k}" = {value(v)}\n' for k, v in pairs)
    return "{" + ", ".join(f"{json.dumps(k)}: {v}" for k, v in pairs) + "}"


@pytest.mark.parametrize("toml", [False, True], ids=["json", "toml"])
@pytest.mark.parametrize("defect", DEFECTS)
def test_spec_files(lab, tmp_path, defect, toml):
    @settings(FUZZ, max_examples=3)
    @given(VALID_FIELDS, st.sampled_from(ENCODINGS))
    def check(fields, encoding):
        extra, json_words, toml_words = DEFECTS[defect]
        text = spec_text(fields, extra, toml)
        data = text.encode("utf-8") + b"\xff" if encoding == "broken utf-8" else text.encode(encoding)
        path = tmp_path / ("spec.toml" if toml else "spec.json")
        path.write_bytes(data)
        result = lab("submit", "train", "--spec", path, "--after", "999999")
        assert result.code == 2, (text, result)
        words = "not valid UTF-8" if encoding == "broken utf-8" else toml_words if toml else json_words
        if defect == "huge float" and toml:
            words = "holds inf"
        assert words in " ".join(result.err.split()), (defect, encoding, toml, result.err)

    check()


# -- export --out: any path, valid or not ----------------------------------------------------------------

name = st.one_of(
    st.sampled_from(["dir", "missing", "a-file", "..", ".", "out.json", "x" * 300]),
    st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00"), min_size=1, max_size=30),
)


def test_export_out_paths(lab, tmp_path):
    base = tmp_path / "a" / "b" / "c"
    (base / "dir").mkdir(parents=True)
    (base / "a-file").write_text("mine\n")

    def listing() -> dict[str, bytes | None]:  # every folder and file under tmp_path/a, with contents
        files = {os.path.relpath(os.path.join(d, f), tmp_path): open(os.path.join(d, f), "rb").read()
                 for d, _, names in os.walk(tmp_path / "a") for f in names}
        return files | {os.path.relpath(d, tmp_path): None for d, _, _ in os.walk(tmp_path / "a")}

    @settings(FUZZ, max_examples=40)
    @given(st.lists(name, min_size=1, max_size=3))
    @example(["missing", "out.json"])
    @example(["dir"])
    @example(["a-file", "out.json"])
    @example(["\n", "dir"])
    def check(parts):
        out = base.joinpath(*parts)
        target = os.path.realpath(out)
        before = listing()
        result = lab("export", "1", "--out", str(out))
        folder_ok = os.path.isdir(os.path.dirname(target))
        if not folder_ok or os.path.isdir(target):
            assert result.code == 2 and "--out" in result.err, (parts, result)
        elif all(len(p.encode()) <= 200 for p in parts) and not os.path.exists(target) or \
                os.path.isfile(target) and len(os.path.basename(target).encode()) <= 200:
            assert result.code == 0, (parts, result)
        if result.code == 0:
            assert json.loads(open(target, encoding="utf-8").read())["id"] == 1
            assert set(listing()) - set(before) <= {os.path.relpath(target, tmp_path)}  # no stray temp file
        else:
            assert listing() == before, parts

    check()
