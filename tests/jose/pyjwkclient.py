"""PyJWT's PyJWKClient, a JWKS-caching verifier, beside a tokenring fleet.

    pyjwkclient.py JWKS_URL AUDIENCE LIFESPAN
        reads one token per line on stdin and prints one line per token: `ok`, or the class
        of the error that refused it (PyJWKClientError for a kid not in the JWKS). The JWKS is
        cached for LIFESPAN seconds; a kid missing from it is refetched at most once per
        PyJWT's cooldown, so a key must be published (pending) longer than LIFESPAN before it
        signs — the rule the test checks tokenring's rotation keeps.
"""
import sys

import jwt

client = jwt.PyJWKClient(sys.argv[1], cache_keys=True, lifespan=float(sys.argv[3]))
for line in sys.stdin:
    token = line.strip()
    try:
        key = client.get_signing_key_from_jwt(token)
        jwt.decode(token, key.key, algorithms=[key.algorithm_name], audience=sys.argv[2])
        print("ok", flush=True)
    except Exception as error:  # every refusal, by its class
        print(type(error).__name__, flush=True)
        print(f"pyjwkclient: {error}", file=sys.stderr, flush=True)
