#!/usr/bin/env bash
# PyJWT (with `cryptography`), a JOSE library nobody here wrote, in a virtual environment of
# its own: the JWS tests have it verify what tokenring mints and mint what tokenring verifies.
# Installed from PyPI into $TOKENRING_PY (/tmp/tokenring-py unless set); left alone when it
# is there already. Prints nothing on success.
set -euo pipefail
venv="${TOKENRING_PY:-/tmp/tokenring-py}"
if "$venv/bin/python" -c 'import jwt, cryptography' 2>/dev/null; then
  exit 0
fi
if ! python3 -m venv "$venv" >/dev/null 2>&1; then
  # Debian's python3 makes virtual environments only with python3-venv.
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q python3-venv >/dev/null
  rm -rf "$venv"
  python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q --disable-pip-version-check 'pyjwt[crypto]>=2.8,<3'
