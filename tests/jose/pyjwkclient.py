"""PyJWT's PyJWKClient, a JWKS-caching verifier, beside a tokenring fleet.

    pyjwkclient.py JWKS_URL AUDIENCE LIFESPAN [ISSUER [COOLDOWN]]
        reads one token per line on stdin and prints one line per token: `ok`, or the class
        of the error that refused it (PyJWKClientError for a kid not in the JWKS). The JWKS is
        cached for LIFESPAN seconds; a kid missing from it is refetched at most once per
        PyJWT's cooldown, so a key must be published (pending) longer than LIFESPAN before it
        signs — the rule the test checks tokenring's rotation keeps. With ISSUER, `iss` must
        name it (and `exp`, `iss`, `aud` are required), as for an OIDC provider's tokens.
        COOLDOWN is PyJWT's `cooldown_duration` (30 s unless given): after any fetch, a kid
        missing from the cached set is refused without a refetch for that long.
"""
import sys

import jwt

options = {"cooldown_duration": float(sys.argv[5])} if len(sys.argv) > 5 else {}
client = jwt.PyJWKClient(sys.argv[1], cache_keys=True, lifespan=float(sys.argv[3]), **options)
issuer = sys.argv[4] if len(sys.argv) > 4 else None
required = {"require": ["exp", "iss", "aud"]} if issuer else None
for line in sys.stdin:
    token = line.strip()
    try:
        key = client.get_signing_key_from_jwt(token)
        jwt.decode(token, key.key, algorithms=[key.algorithm_name], audience=sys.argv[2],
                   issuer=issuer, options=required)
        print("ok", flush=True)
    except Exception as error:  # every refusal, by its class
        print(type(error).__name__, flush=True)
        print(f"pyjwkclient: {error}", file=sys.stderr, flush=True)
