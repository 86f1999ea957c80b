#!/usr/bin/env bash
# Installs every program the tests talk to (Debian, as root): etcd and openssl (the etcd
# tests, TLS included), curl (the README's server walk-through), and Ruby with Rails 6.1 and
# 7.2 (the Rails judges, tests/rails/setup.sh). What is installed already is left alone; it
# prints nothing on success. .ci/run runs exactly this before the tests. PyJWT for the JWS
# tests: tests/jose/setup.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v curl >/dev/null || missing+=(curl)
command -v etcd >/dev/null || missing+=(etcd-server)
command -v openssl >/dev/null || missing+=(openssl)
if ((${#missing[@]})); then
  apt-get update -q >/dev/null
  apt-get install -y -q "${missing[@]}" >/dev/null
fi
# Debian's package may start a system etcd; the tests start their own on free ports.

tests/rails/setup.sh

tests/jose/setup.sh
