"""`mnistlab report`: one page for whole studies, over a store with one small real run of each study."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from PIL import Image

from runs.report import default_folder, write_report
from runs.store import Store
from tests.conftest import wait_until

STUDIES = [
    ("zoo", "--regime", "256", "--nets", "1", "--epochs", "2"),
    ("augment", "--nets", "A", "--transforms", "T3", "--samples", "256", "--epochs", "1"),
    ("gan", "--arch", "mlp", "--samples", "256", "--epochs", "1", "--sizes", "100", "--classifier-samples", "256",
     "--classifier-epochs", "1"),
    ("fgsm", "--samples", "256", "--epochs", "1", "--eps", "0.2,1", "--test-images", "100", "--tsne-eps", ""),
]


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images, self.links = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.images.append(attrs["src"])
        for name in ("href", "src"):
            if name in attrs:
                self.links.append(attrs[name])


@pytest.fixture(scope="module")
def studies(tmp_path_factory, mnist_dir):
    """A store with one small, real run of each of the four studies (run once for this file's tests)."""
    from engine import control
    from tui.cli.main import main

    home = tmp_path_factory.mktemp("report") / "home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNISTLAB_HOME", str(home))
        mp.setenv("MNISTLAB_DATA", str(mnist_dir))
        for args in STUDIES:
            assert main(["study", *args, "--json"]) == 0
        store = Store(home)
        wait_until(lambda: all(j.finished for j in store.jobs()), timeout=600, what="the four studies")
        assert all(j.status == "done" for j in store.jobs()), [(j.id, j.reason) for j in store.jobs()]
        control.stop(home, wait_s=20)
    return home


def test_report_of_all_studies_is_one_offline_page_with_valid_figures(studies, tmp_path, cli, monkeypatch):
    monkeypatch.setenv("MNISTLAB_HOME", str(studies))
    result = cli("report", "--study", "all", "--out", tmp_path / "out", "--json")
    assert result.code == 0, result.err
    written = result.json()
    html = (tmp_path / "out" / "report.html").read_text()
    page = Page()
    page.feed(html)
    # every image exists, is a valid PNG, and lies inside the report's folder
    assert len(page.images) >= 8 and sorted(f"figures/{f}" for f in written["figures"]) == sorted(page.images)
    for src in page.images:
        with Image.open(tmp_path / "out" / src) as img:
            assert img.format == "PNG" and img.size[0] > 100
            img.verify()
    assert not re.search(r"(https?:|//|file:|www\.)", " ".join(page.links))
    assert "http" not in html and "<script" not in html and "<link" not in html
    # what the issue asks each study's part to show, with data set, spec and runs under each figure
    for words in ("Study 1: the network zoo", "Loss curves per net", "Study 2: data augmentation",
                  "Sample grid per transform", "T3 (rotation)", "Study 3: GAN", "t-SNE maps of G(z) (left) and z",
                  "components of z1 and z2", "G(a*z1 + (1-a)*z2)", "Study 4: FGSM", "FGSM accuracy matrices as heatmaps",
                  "accuracy under its own FGSM attack", "adversarial samples through N1"):
        assert words in html, words
    assert html.count("data: MNIST · ") >= len(page.images)
    markdown = (tmp_path / "out" / "report.md").read_text()
    assert sorted(re.findall(r"\]\((figures/[^)]+\.png)\)", markdown)) == sorted(page.images)


def test_report_of_a_study_with_unfinished_jobs_says_which_are_missing(studies, tmp_path, monkeypatch, cli):
    monkeypatch.setenv("MNISTLAB_HOME", str(studies))
    store = Store(studies)
    from runs.studies import zoo

    options = zoo.validate({"regimes": "256", "nets": "5"})
    (queued,) = store.submit(zoo.plan(options, {"epochs": 2}), study=("zoo", "zoo", options))
    page = write_report(store, "zoo", default_folder(store, "zoo"))  # where the dashboard writes it
    assert page == studies / "reports" / "zoo" / "report.html"
    html = page.read_text()
    assert "Not finished: 1 of 2 jobs" in html and f"job {queued} (train net=5 samples=256 epochs=2): queued" in html
    assert page.with_suffix(".md").exists()
    store.cancel(queued)
    assert (studies / "reports").stat().st_mode & 0o777 == 0o700  # every folder it made is private
    bad = cli("report", "--study", "nope", "--out", tmp_path / "x")
    assert bad.code == 2 and "no study 'nope'" in bad.err and "allowed: all" in bad.err
    assert not (tmp_path / "x").exists()
    # a sweep is a group too, but has no report: `all` leaves it out, naming it says where its results are
    from runs.report import study_names
    from runs.records import JobRequest

    (point,) = store.submit([JobRequest("train", {"net": "1", "samples": 64, "epochs": 1})],
                            study=("sweep-1", "sweep", {}))
    store.cancel(point)
    assert "sweep-1" not in study_names(store, "all") and "zoo" in study_names(store, "all")
    bad = cli("report", "--study", "sweep-1", "--out", tmp_path / "x")
    assert bad.code == 2 and "sweep-1 is a sweep, which has no report; `mnistlab sweep show 1`" in bad.err
