#!/usr/bin/env bash
# The fast set: every test that needs no outside program (etcd, openssl, curl, Ruby with
# Rails) and starts no example server — the library (unit, integration, doc), the CLI's
# file-keyring tests and the axum crate. Under a minute once built; run it while working,
# and `cargo test --all-features` (everything, README) before pushing.
#
# Slow or outside-program tests are grouped by name so they can be left out here:
#   integration modules etcd::, rails_live::, rails_ruby::, rails_corners::, rails_encrypted::
#   cli/tests/etcd.rs, examples/tests/*.rs (servers, fleets, etcd clusters)
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test -p tokenring --all-features --lib --test integration --test reload_drop -- \
  --skip etcd:: --skip rails_live:: --skip rails_ruby:: --skip rails_corners:: \
  --skip rails_encrypted::
cargo test -p tokenring --all-features --doc
cargo test -p tokenring-cli --all-features --test cli
cargo test -p tokenring-axum --all-features
