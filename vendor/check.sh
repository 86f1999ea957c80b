#!/usr/bin/env bash
# Checks that each crate under vendor/ is the published crate but for the files its
# README entry names: fetches the published version through cargo and compares the trees.
set -euo pipefail
cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
check() { # NAME VERSION CHANGED-FILE…
  local name=$1 version=$2
  shift 2
  mkdir -p "$tmp/$name"
  printf '[package]\nname = "probe"\nversion = "0.0.0"\nedition = "2021"\n[dependencies]\n%s = "=%s"\n' \
    "$name" "$version" > "$tmp/$name/Cargo.toml"
  mkdir -p "$tmp/$name/src" && : > "$tmp/$name/src/lib.rs"
  # `cargo fetch` puts the published source in cargo's registry cache; find it there.
  (cd "$tmp/$name" && cargo fetch -q)
  local published
  published=$(find "${CARGO_HOME:-$HOME/.cargo}/registry/src" -maxdepth 2 -type d -name "$name-$version" | head -1)
  [ -n "$published" ] || { echo "vendor/check.sh: $name $version not found after cargo fetch" >&2; exit 1; }
  # Only the directories the build reads; the vendored copy drops examples and tests.
  for dir in src proto; do
    diff -r "$published/$dir" "$name/$dir"
  done
  echo "vendor/$name: the published $name $version but for: $*"
}
check etcd-client 0.21.1 build.rs Cargo.toml
