"""PyJWT on the other side of tokenring's JWS.

    pyjwt.py verify JWKS_FILE TOKEN [AUDIENCE]
                                      the claims as JSON, verified with the JWKS key the
                                      token's kid names (and the audience, when given);
                                      exit 1 and the error's class otherwise
    pyjwt.py mint ALG KID CLAIMS      a new key: {"jwk": its public JWK, "token": CLAIMS signed}
"""
import json
import sys

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

def verify(jwks_file, token, audience=None):
    with open(jwks_file) as f:
        jwks = jwt.PyJWKSet.from_dict(json.load(f))
    kid = jwt.get_unverified_header(token).get("kid")
    try:
        key = jwks[kid]
        # The algorithm comes from the JWK, never from the token.
        claims = jwt.decode(token, key.key, algorithms=[key.algorithm_name], audience=audience)
    except Exception as error:  # every refusal, by its class
        print(type(error).__name__)
        sys.exit(1)
    print(json.dumps(claims, sort_keys=True))

def mint(alg, kid, claims):
    if alg == "EdDSA":
        private = ed25519.Ed25519PrivateKey.generate()
    elif alg in ("RS256", "PS256"):
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    else:
        private = ec.generate_private_key(ec.SECP256R1())
    jwk = json.loads(jwt.algorithms.get_default_algorithms()[alg].to_jwk(private.public_key()))
    jwk.update({"kid": kid, "alg": alg, "use": "sig"})
    token = jwt.encode(json.loads(claims), private, algorithm=alg, headers={"kid": kid})
    print(json.dumps({"jwk": jwk, "token": token}))

if sys.argv[1] == "verify":
    verify(*sys.argv[2:5])
else:
    mint(sys.argv[2], sys.argv[3], sys.argv[4])
