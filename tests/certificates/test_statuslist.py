"""Token Status List: bit packing, the draft's published examples, and the signed status list token."""

from __future__ import annotations

import zlib
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.certificates.credentials import NOW, PUBLIC_URL, STATUS_URI, make_deployment, strict_json
from zerotrip.certificates import jose, statuslist
from zerotrip.certificates.statuslist import InvalidStatusList, read_status_list_token
from zerotrip.certificates.trust import TrustList, build_jwks


@st.composite
def lists(draw: st.DrawFn) -> tuple[int, list[int]]:
    bits = draw(st.sampled_from(statuslist.BITS))
    return bits, draw(st.lists(st.integers(min_value=0, max_value=(1 << bits) - 1), min_size=1, max_size=300))


@given(lists())
def test_pack_then_unpack_gives_every_status_back(example: tuple[int, list[int]]) -> None:
    bits, statuses = example
    data = statuslist.pack(bits=bits, size=len(statuses), entries=enumerate(statuses))
    assert len(data) == (len(statuses) * bits + 7) // 8
    assert statuslist.unpack(data, bits=bits)[: len(statuses)] == statuses
    assert all(statuslist.status_at(data, bits=bits, index=i) == s for i, s in enumerate(statuses))
    assert statuslist.decode_lst(statuslist.encode_lst(data)) == data


@given(lists(), st.data())
def test_packing_is_lsb_first(example: tuple[int, list[int]], data: st.DataObject) -> None:
    # Index i occupies bits [i*bits, (i+1)*bits) of the array read as one little-endian integer.
    bits, statuses = example
    packed = statuslist.pack(bits=bits, size=len(statuses), entries=enumerate(statuses))
    as_int = int.from_bytes(packed, "little")
    i = data.draw(st.integers(min_value=0, max_value=len(statuses) - 1))
    assert (as_int >> (i * bits)) & ((1 << bits) - 1) == statuses[i]


def test_later_entries_overwrite_earlier_ones() -> None:
    data = statuslist.pack(bits=2, size=4, entries=[(1, 2), (1, 1), (2, 3)])
    assert statuslist.unpack(data, bits=2) == [0, 1, 3, 0]


def test_draft_example_one_bit() -> None:
    # draft-ietf-oauth-status-list, "Status List" section: 16 entries of 1 bit.
    statuses = [1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1]
    data = statuslist.pack(bits=1, size=16, entries=enumerate(statuses))
    assert data == bytes([0xB9, 0xA3])
    assert statuslist.encode_lst(data) == "eNrbuRgAAhcBXQ"
    assert statuslist.unpack(statuslist.decode_lst("eNrbuRgAAhcBXQ"), bits=1) == statuses


def test_draft_example_two_bits() -> None:
    # The same section's 2-bit example: 12 entries.
    statuses = [1, 2, 0, 3, 0, 1, 0, 1, 1, 2, 3, 3]
    data = statuslist.pack(bits=2, size=12, entries=enumerate(statuses))
    assert data == bytes([0xC9, 0x44, 0xF9])
    assert statuslist.encode_lst(data) == "eNo76fITAAPfAgc"
    assert statuslist.unpack(statuslist.decode_lst("eNo76fITAAPfAgc"), bits=2) == statuses


def test_pack_refuses_what_does_not_fit() -> None:
    with pytest.raises(ValueError):
        statuslist.pack(bits=3, size=8, entries=[])
    with pytest.raises(ValueError):
        statuslist.pack(bits=1, size=8, entries=[(0, 2)])
    with pytest.raises(ValueError):
        statuslist.pack(bits=2, size=8, entries=[(8, 1)])
    with pytest.raises(IndexError):
        statuslist.status_at(b"\x00", bits=2, index=4)


def test_decode_lst_refuses_bombs_and_garbage() -> None:
    bomb = jose.b64url_encode(zlib.compress(bytes(statuslist.MAX_LIST_BYTES + 1)))
    with pytest.raises(ValueError, match="larger"):
        statuslist.decode_lst(bomb)
    with pytest.raises(ValueError):
        statuslist.decode_lst(jose.b64url_encode(b"not zlib"))
    with pytest.raises(ValueError):
        statuslist.decode_lst(statuslist.encode_lst(b"\x01" * 100)[:-6])


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
def test_status_list_token_round_trip(tmp_path: Path, algorithm: str) -> None:
    deployment = make_deployment(tmp_path, "ES256")
    key = statuslist_key = deployment.keys.rotate("certificates-status", algorithm=algorithm)
    trust = TrustList.from_jwks(build_jwks([(statuslist_key, PUBLIC_URL, "zerotrip")]))
    token = statuslist.status_list_token(
        key=key,
        uri=STATUS_URI,
        bits=2,
        size=131_072,
        entries=[(0, 1), (77_777, 2), (131_071, 1)],
        now=NOW,
        ttl_seconds=300,
    )
    header = strict_json(token.split(".")[0])
    payload = strict_json(token.split(".")[1])
    assert header == {"alg": algorithm, "typ": "statuslist+jwt", "kid": key.kid}
    assert payload["sub"] == STATUS_URI and payload["iat"] == int(NOW.timestamp()) and payload["ttl"] == 300
    assert payload["status_list"]["bits"] == 2
    # 131,072 two-bit entries, nearly all VALID, compress to a few dozen bytes.
    assert len(payload["status_list"]["lst"]) < 200
    read = read_status_list_token(token, trust=trust, now=NOW)
    assert read.uri == STATUS_URI and read.size == 131_072 and read.issued_at == NOW and read.kid == key.kid
    assert [read.status(i) for i in (0, 1, 77_777, 131_071)] == [1, 0, 2, 1]


def test_reading_refuses_untrusted_or_altered_lists(tmp_path: Path) -> None:
    deployment = make_deployment(tmp_path, "ES256")
    token = statuslist.status_list_token(
        key=deployment.status_key, uri=STATUS_URI, bits=2, size=1024, entries=[], now=NOW, ttl_seconds=0
    )
    trust = deployment.trust
    assert read_status_list_token(token, trust=trust).status(5) == 0
    header, _payload, signature = token.split(".")
    altered = statuslist.status_list_token(
        key=deployment.status_key, uri=STATUS_URI, bits=2, size=1024, entries=[(5, 1)], now=NOW, ttl_seconds=0
    ).split(".")[1]
    with pytest.raises(InvalidStatusList, match="signature"):
        read_status_list_token(f"{header}.{altered}.{signature}", trust=trust)
    with pytest.raises(InvalidStatusList, match="trusted"):
        read_status_list_token(token, trust=TrustList())
    # An issuer's key is trusted for its own iss, which is not a prefix of the status list URIs.
    by_issuer = statuslist.status_list_token(
        key=deployment.issuer, uri=STATUS_URI, bits=2, size=1024, entries=[(5, 1)], now=NOW, ttl_seconds=0
    )
    with pytest.raises(InvalidStatusList, match="trusted"):
        read_status_list_token(by_issuer, trust=trust)
    with pytest.raises(InvalidStatusList):
        read_status_list_token("not a token", trust=trust)


def test_an_expired_status_list_is_refused(tmp_path: Path) -> None:
    deployment = make_deployment(tmp_path, "ES256")
    key = deployment.status_key
    payload = {
        "sub": STATUS_URI,
        "iat": int(NOW.timestamp()),
        "exp": int(NOW.timestamp()) + 600,
        "status_list": {"bits": 2, "lst": statuslist.encode_lst(bytes(16))},
    }
    token = jose.sign_compact(
        jose.canonical_json(payload),
        key.private_key,
        algorithm=key.algorithm,
        headers={"alg": key.algorithm, "typ": "statuslist+jwt", "kid": key.kid},
    )
    trust = deployment.trust
    fresh = read_status_list_token(token, trust=trust, now=NOW + timedelta(seconds=599))
    assert fresh.expires_at == NOW + timedelta(seconds=600) and fresh.size == 64
    with pytest.raises(InvalidStatusList, match="expired"):
        read_status_list_token(token, trust=trust, now=NOW + timedelta(seconds=600))
