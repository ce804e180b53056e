"""The log's JSON API (/api/v1/log/...), its exports and pages, through HTTP; verify.verify_url reads it in-process."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from citycommons.ledger import jobs, merkle, service
from citycommons.ledger.keys import load_public_key
from citycommons.ledger.schemas import EntryProofRead, InclusionProof, SignedTreeHead
from citycommons.ledger.verify import verify_directory, verify_url
from tests.ledger.factories import event


@pytest.fixture
def log(client, uow, settings):  # type: ignore[no-untyped-def]
    """The app signed a head of the empty log at start; then 20 entries, a head, 13 more, a head, 3 unsigned."""
    signer = jobs.signer_for(settings)
    done = 0
    for size in (20, 33):
        with uow() as s:
            service.append_many(session=s, events=[event(n) for n in range(done, size)])
            service.sign_tree_head(session=s, signer=signer)
        done = size
    with uow() as s:
        service.append_many(session=s, events=[event(n) for n in range(33, 36)])
    return client


def test_tree_heads_public_key_and_entries(log):
    heads = log.get("/api/v1/log/sths").json()["tree_heads"]
    assert [h["tree_size"] for h in heads] == [0, 20, 33]
    sth = SignedTreeHead.model_validate(log.get("/api/v1/log/sth").json())
    assert sth.tree_size == 33
    key = log.get("/api/v1/log/public-key").json()
    assert key["algorithm"] == "Ed25519" and key["key_id"] == sth.key_id
    public = load_public_key(key["pem"])
    public.verify(sth.signature_bytes(), sth.signed_data())  # raises if the signature is wrong

    page = log.get("/api/v1/log/entries", params={"start": 30, "limit": 4}).json()
    assert page["tree_size"] == 36 and [e["index"] for e in page["entries"]] == [30, 31, 32, 33]
    first = page["entries"][0]
    assert first["leaf_hash"] == merkle.leaf_hash(first["entry"].encode()).hex()
    typed = log.get("/api/v1/log/entries", params={"type": "erasure", "limit": 1000}).json()["entries"]
    assert typed and all(e["type"] == "erasure" for e in typed)


def test_entry_with_inclusion_proof(log):
    read = EntryProofRead.model_validate(log.get("/api/v1/log/entries/7").json())
    assert read.tree_head is not None and read.tree_head.tree_size == 33 and read.inclusion is not None
    assert merkle.verify_inclusion(
        index=7,
        size=33,
        leaf=bytes.fromhex(read.entry.leaf_hash),
        path=[bytes.fromhex(h) for h in read.inclusion.inclusion_path],
        root=bytes.fromhex(read.tree_head.root_hash),
    )
    older = log.get("/api/v1/log/entries/7", params={"tree_size": 20}).json()
    assert older["tree_head"]["tree_size"] == 20 and older["inclusion"]["tree_size"] == 20
    unsigned = log.get("/api/v1/log/entries/34").json()
    assert unsigned["inclusion"] is None and unsigned["tree_head"]["tree_size"] == 33
    proof = InclusionProof.model_validate(
        log.get("/api/v1/log/proof/inclusion", params={"index": 7, "tree_size": 33}).json()
    )
    assert proof.inclusion_path == read.inclusion.inclusion_path


def test_consistency_proof_between_signed_heads(log):
    heads = [SignedTreeHead.model_validate(h) for h in log.get("/api/v1/log/sths").json()["tree_heads"]]
    for older, newer in zip(heads, heads[1:], strict=False):
        path = log.get("/api/v1/log/proof/consistency", params={"first": older.tree_size, "second": newer.tree_size})
        assert merkle.verify_consistency(
            first=older.tree_size,
            second=newer.tree_size,
            first_root=bytes.fromhex(older.root_hash),
            second_root=bytes.fromhex(newer.root_hash),
            proof=[bytes.fromhex(h) for h in path.json()["consistency_path"]],
        )


@pytest.mark.parametrize(
    ("path", "params", "status", "field"),
    [
        ("/entries", {"limit": 0}, 422, "limit"),
        ("/entries", {"limit": 1001}, 422, "limit"),
        ("/entries", {"start": -1}, 422, "start"),
        ("/entries", {"type": "no.such"}, 422, "type"),
        ("/entries/abc", {}, 422, "index"),
        ("/entries/-1", {}, 422, "index"),
        ("/entries/3", {"tree_size": 99}, 422, "tree_size"),
        ("/entries/3", {"tree_size": 0}, 422, "tree_size"),
        ("/entries/99999999999999999999999", {}, 422, "index"),
        ("/entries/10", {"tree_size": 5}, 422, "index"),
        ("/proof/inclusion", {"index": 3, "tree_size": 37}, 422, "tree_size"),
        ("/proof/inclusion", {"index": 3}, 422, "tree_size"),
        ("/proof/inclusion", {"index": "x", "tree_size": 3}, 422, "index"),
        ("/proof/consistency", {"first": 5, "second": 99}, 422, "second"),
        ("/proof/consistency", {"first": 9, "second": 5}, 422, "first"),
    ],
)
def test_bad_parameters_name_the_field(log, path, params, status, field):
    r = log.get(f"/api/v1/log{path}", params=params)
    assert r.status_code == status, r.text
    assert field in r.json()["error"]["fields"]


def test_missing_entry_is_404(log):
    r = log.get("/api/v1/log/entries/36")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_openapi_documents_the_log(client):
    spec = client.get("/api/v1/openapi.json").json()
    for path in ("entries", "entries/{index}", "sth", "sths", "proof/inclusion", "proof/consistency", "public-key"):
        operation = spec["paths"][f"/api/v1/log/{path}"]["get"]
        assert operation["tags"] == ["transparency"]
    assert "/api/v1/log/export.tar.gz" in spec["paths"]


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_export_archive_verifies_offline(log, tmp_path: Path, kind: str):
    r = log.get(f"/api/v1/log/export.{kind}")
    assert r.status_code == 200
    assert f'filename="citycommons-log-36.{kind}"' in r.headers["content-disposition"]
    if kind == "zip":
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            assert sorted(zf.namelist()) == [
                "citycommons-log-36/entries.ndjson",
                "citycommons-log-36/public-key.json",
                "citycommons-log-36/sths.json",
            ]
            zf.extractall(tmp_path)
    else:
        with tarfile.open(fileobj=io.BytesIO(r.content), mode="r:gz") as tf:
            tf.extractall(tmp_path, filter="data")
    result = verify_directory(tmp_path / "citycommons-log-36")
    assert result.ok, result.summary()
    assert result.entries == 36 and result.tree_size == 33 and result.tree_heads == 3


def test_verify_url_reads_the_api(log):
    result = verify_url("http://127.0.0.1:8000", client=log)
    assert result.ok, result.summary()
    assert result.tree_size == 33


def test_transparency_pages(log):
    html = log.get("/transparency", params={"lang": "en"}).text
    sth = log.get("/api/v1/log/sth").json()
    assert sth["root_hash"] in html and sth["signature"] in html and sth["key_id"] in html
    assert 'href="/api/v1/log/export.tar.gz"' in html and "citycommons log verify http://127.0.0.1:8000" in html
    assert "-----BEGIN PUBLIC KEY-----" in html
    assert 'href="/transparency/entries/35"' in html and 'href="/transparency/entries/10"' not in html  # newest first
    assert "3 newer entries are not covered by a signature yet" in html
    page2 = log.get("/transparency", params={"page": 2, "lang": "en"}).text
    assert 'href="/transparency/entries/10"' in page2
    filtered = log.get("/transparency", params={"type": "erasure", "lang": "en"}).text
    assert 'value="erasure" selected' in filtered
    assert log.get("/transparency", params={"type": "bogus"}).status_code == 422

    entry = log.get("/transparency/entries/7", params={"lang": "ca"}).text
    assert "Prova d'inclusió" in entry or "Prova d&#39;inclusió" in entry
    proof = log.get("/api/v1/log/entries/7").json()["inclusion"]["inclusion_path"]
    assert all(h in entry for h in proof)
    assert log.get("/transparency/entries/99").status_code == 404
    assert 'href="/transparency"' in log.get("/", params={"lang": "en"}).text  # in the footer


def test_log_is_public_but_carries_no_names(log, world, client):
    for who in (None, "outsider", "member_b"):
        headers = world.auth(who) if who else {}
        assert client.get("/api/v1/log/entries", headers=headers).status_code == 200
        assert client.get("/transparency", headers=headers).status_code == 200
    body = client.get("/api/v1/log/entries", params={"limit": 1000}).text
    assert "role.granted" in body  # the world's memberships are logged...
    for personal in (world.editor_id, "member-b", "@example.org"):  # ...without user ids, names or e-mails
        assert personal not in body
