#!/usr/bin/env bash
# Two JOSE libraries nobody here wrote, which the JWS tests have verify what tokenring mints
# and mint what tokenring verifies: PyJWT (with `cryptography`) from PyPI, in a virtual
# environment at $TOKENRING_PY (/tmp/tokenring-py unless set), and Node's `jose` from npm.
# Each is left alone when it is there already. Prints nothing on success.
set -euo pipefail
venv="${TOKENRING_PY:-/tmp/tokenring-py}"
if ! "$venv/bin/python" -c 'import jwt, cryptography' 2>/dev/null; then
  if ! python3 -m venv "$venv" >/dev/null 2>&1; then
    # Debian's python3 makes virtual environments only with python3-venv.
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q python3-venv >/dev/null
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  "$venv/bin/pip" install -q --disable-pip-version-check 'pyjwt[crypto]>=2.8,<3'
fi

# Node's `jose` (panva/jose), the other JOSE library the tests use, in $TOKENRING_NODE
# (/tmp/tokenring-node unless set). jose 5 runs on Debian 12's Node 18 and on newer ones.
# With it, oidc-provider (panva/node-oidc-provider 8, which runs on Node 18 and newer): the
# OpenID Provider the JWKS source follows through a key rotation.
node_dir="${TOKENRING_NODE:-/tmp/tokenring-node}"
if node -e "for (const m of ['jose', 'oidc-provider']) require.resolve(m, {paths: ['$node_dir']})" 2>/dev/null; then
  exit 0
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q nodejs npm >/dev/null
fi
mkdir -p "$node_dir"
npm install --prefix "$node_dir" --no-audit --no-fund --silent 'jose@^5.9' 'oidc-provider@^8.8' >/dev/null
