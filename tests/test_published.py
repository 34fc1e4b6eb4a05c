"""--as-published: the published study's softmax head, recorded in the spec, and the zoo's marks."""

from __future__ import annotations

import torch
from torch import nn

from jobs.catalog import PUBLISHED_DEPARTURES
from jobs.nets import build_net, load_trained
from runs.store import Store
from runs.studies import zoo


def test_the_published_head_is_a_softmax_after_the_last_layer():
    torch.manual_seed(0)
    plain, published = build_net("9.1"), build_net("9.1", published=True)
    assert not isinstance(plain[-1], nn.Softmax) and isinstance(published[-1], nn.Softmax)
    assert list(plain.state_dict()) == list(published.state_dict())  # same weights, same file format
    published.load_state_dict(plain.state_dict())
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        logits, probabilities = plain.eval()(x), published.eval()(x)
    assert torch.allclose(probabilities, torch.softmax(logits, 1), atol=1e-6)
    assert torch.allclose(probabilities.sum(1), torch.ones(3))


def test_as_published_is_recorded_and_the_saved_net_keeps_its_head(home, cli):
    done = cli("submit", "train", "--net", "1", "--as-published", "--samples", "256", "--epochs", "1", "--wait",
               "--json")
    assert done.code == 0, done.err
    record = done.json()
    assert record["spec"]["as_published"] is True and record["repro"]["spec"]["as_published"] is True
    assert "as_published=True" in record["short_spec"]
    weights = next(a for a in record["artifacts"] if a["name"] == "weights")
    model, meta = load_trained(Store(home).artifact_path(record["id"], "weights") or weights["path"])
    assert isinstance(model[-1], nn.Softmax) and meta["spec"]["as_published"] is True


def test_zoo_marks_nets_that_depart_from_the_published_results(home, cli):
    store = Store(home)
    options = zoo.validate({"regimes": "1000", "nets": "1,9.1"})
    store.submit(zoo.plan(options) + zoo.plan(options, {"as_published": True}), study=("zoo", "zoo", options))
    view = cli("study", "show", "zoo", "--json").json()
    assert [r["label"] for r in view["grids"][0]["rows"]] == ["1", "1 (as published)", "9.1 †", "9.1 (as published)"]
    assert f"† 9.1: {PUBLISHED_DEPARTURES['9.1']}" in view["notes"]
    text = " ".join(cli("study", "show", "zoo").out.split())
    assert "† 9.1: the published study reports chance level" in text
    assert "--as-published" in cli("study", "zoo", "--help").out
