"""``train --from-cases``: the reviewers' decided cases as a training source (seconds).

Two decided cases (one approved with live NUAA frames, one rejected with printed-photo
frames) and one undecided case in a store; their key frames are read back, labelled by
the decision, audited, and used as the source ``review_cases`` of the protocol.
"""

import json
import os

import cv2
import pytest

import liveness  # noqa: F401  (load order)
from liveness.cli import main
from liveness.config import settings
from liveness.pad.cases import CASES_SOURCE, case_crops
from liveness.pad.crops import CropSpec
from liveness.store import EvidenceInput, audit, auth, cases, open_store, reviews, sessions
from liveness.store.testing import *  # noqa: F401,F403  (fixtures)
from liveness.store.testing import new_key, verdict_for

DATA = settings().data_dir / "pad"
pytestmark = pytest.mark.skipif(not (DATA / "nuaa").is_dir(), reason="needs ../shared/data/pad")
PASSWORD = "correct horse battery staple"


def _frames(label, subject, count=3):
    files = sorted((DATA / "nuaa" / label / subject).glob("*.jpg"))[:count]
    return [cv2.imread(str(f)) for f in files]


def _case(store, customer, frames):
    grant = sessions.open_session(store, customer, "d1")
    ticket = sessions.consume_session(store, grant.session_id, grant.nonce)
    return cases.record_case(store, ticket, verdict_for(grant.session_id), EvidenceInput(key_frames=frames))


def _decided_store(store):
    reviewer = auth.create_user(store, "rita", PASSWORD, "reviewer")
    genuine = _case(store, "c1", _frames("live", "0001"))
    attack = _case(store, "c2", _frames("attack", "0002"))
    _case(store, "c3", _frames("live", "0003"))  # still in the queue: not a label
    reviews.decide(store, reviewer, genuine.id, "approve", "same person")
    reviews.decide(store, reviewer, attack.id, "reject", "printed photo")
    return genuine.id, attack.id


def test_decided_cases_become_labelled_audited_crops(store):
    genuine, attack = _decided_store(store)
    read = case_crops(store, CropSpec(), actor="cli:train")
    assert (read.cases, read.purged) == (2, 0)
    crops = read.crops
    by_case = {p.subject: p.label for p in crops.presentations}
    assert by_case == {genuine: 1, attack: 0}  # the reviewer's decision is the label
    assert set(crops.sources()) == {CASES_SOURCE}
    assert len(crops.labels) == 6 and crops.inputs.shape[1:] == (96, 96, 3)
    assert sorted(crops.labels.tolist()) == [0, 0, 0, 1, 1, 1]
    reads = [e for e in audit.entries(store) if e.action == "evidence.read_for_training"]
    assert sorted(e.subject for e in reads) == sorted([f"case:{genuine}", f"case:{attack}"])
    assert {e.actor for e in reads} == {"cli:train"}


def test_train_from_cases_adds_the_cases_as_a_source(tmp_path, monkeypatch):
    key, url = new_key(), f"sqlite:///{tmp_path / 'cases.db'}"
    for name, value in {"DATABASE_URL": url, "LIVENESS_EVIDENCE_KEY": key,
                        "LIVENESS_EVIDENCE_DIR": str(tmp_path / "evidence"),
                        "LIVENESS_VAR_DIR": str(tmp_path / "var")}.items():
        monkeypatch.setenv(name, value)
    store = open_store()
    try:
        _decided_store(store)
    finally:
        store.close()
    sources = []
    for source in ("alexcamargo", "trickyf0x"):
        for folder in ("live/s01", "attack/s01"):
            target = tmp_path / source / folder
            target.mkdir(parents=True)
            for f in sorted((DATA / source / folder).glob("*.jpg"))[:6]:
                os.symlink(f, target / f.name)
        sources.append(str(tmp_path / source))
    out = tmp_path / "loso"
    assert main(["train", *sources, "--from-cases", "--leave-one-source-out", "--recipe", "texture",
                 "--inner-groups", "2", "--out", str(out), "--quiet"]) == 0
    report = json.loads((out / "report.json").read_text())
    rows = {r["source"]: r for r in report["recipes"][0]["per_source"]}
    assert set(rows) == {"alexcamargo", "trickyf0x", CASES_SOURCE}
    assert rows[CASES_SOURCE]["bona_fide"] == 3 and rows[CASES_SOURCE]["attacks_per_species"] == {CASES_SOURCE: 3}


def test_from_cases_without_decided_cases_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("LIVENESS_EVIDENCE_KEY", new_key())
    monkeypatch.setenv("LIVENESS_VAR_DIR", str(tmp_path / "var"))
    assert main(["train", str(DATA / "alexcamargo"), str(DATA / "trickyf0x"), str(DATA / "jomariya"),
                 "--from-cases", "--leave-one-source-out", "--out", str(tmp_path / "x"), "--quiet"]) != 0
    assert "no decided case" in capsys.readouterr().err
