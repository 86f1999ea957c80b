#!/usr/bin/env python3
"""Writes tests/vectors/native-v1.json from an independent implementation of the native v1
format (docs/FORMAT.md), using only Python's standard library. tests/vectors.rs checks that
tokenring derives the same keys and mints the same tokens byte for byte.

Run: python3 tests/vectors/gen_native_v1.py > tests/vectors/native-v1.json
"""
import base64
import hashlib
import hmac
import json

HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}


def hkdf_sha256(ikm: bytes, info: bytes, length: int) -> bytes:
    prk = hmac.new(b"\x00" * 32, ikm, hashlib.sha256).digest()  # RFC 5869 extract, no salt
    okm, block, counter = b"", b"", 1
    while len(okm) < length:
        block = hmac.new(prk, block + info + bytes([counter]), hashlib.sha256).digest()
        okm += block
        counter += 1
    return okm[:length]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(secret: bytes, algorithm: str, kid: str, salt: str, value, purpose, exp):
    digest = HASHES[algorithm]
    key = hkdf_sha256(secret, salt.encode(), digest().digest_size)
    envelope = {"dat": value}
    if purpose is not None:
        envelope["pur"] = purpose
    if exp is not None:
        envelope["exp"] = exp
    payload = json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)
    signed = f"v1.{kid}.{b64url(payload.encode())}"
    tag = hmac.new(key, signed.encode(), digest).digest()
    return key, payload, f"{signed}.{b64url(tag)}"


SECRET_A = bytes(range(32))
SECRET_B = bytes(range(0x40, 0x40 + 48))
CASES = [
    ("minimal", SECRET_A, "HS256", "k1", "tokenring", 42, None, None),
    ("purpose and expiry", SECRET_A, "HS256", "2026-11", "password_reset",
     {"user_id": 42}, "password_reset", 1800000000),
    ("unicode and escapes", SECRET_A, "HS256", "k_1-x", "User/signed_id",
     {"name": "Zoë \u00e9\u4e2d \U0001F600", "quote": "\"\\/\n\t\u0001"}, "é", None),
    ("nested values", SECRET_B, "HS384", "k384", "tokenring",
     [1, -2, True, False, None, "", {"a": [[]], "b": {}}], None, 4102444800),
    ("hs512 string", SECRET_B, "HS512", "k512", "email_confirm", "hello", "confirm", 1),
    ("empty salt", SECRET_A, "HS256", "K", "", None, "", None),
]

vectors = []
for name, secret, algorithm, kid, salt, value, purpose, exp in CASES:
    key, payload, tok = token(secret, algorithm, kid, salt, value, purpose, exp)
    vectors.append({
        "name": name,
        "key": {"id": kid, "algorithm": algorithm, "secret": base64.b64encode(secret).decode()},
        "salt": salt,
        "value": value,
        "purpose": purpose,
        "exp": exp,
        "derived_key_hex": key.hex(),
        "payload_json": payload,
        "token": tok,
    })

print(json.dumps({
    "format": "tokenring native v1",
    "spec": "docs/FORMAT.md",
    "generator": "tests/vectors/gen_native_v1.py (Python standard library only)",
    "vectors": vectors,
}, indent=2, ensure_ascii=False))
