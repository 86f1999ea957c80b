#!/usr/bin/env python3
"""Prints the README's table from the last `cargo bench --bench compare` run
(target/criterion/*/*/new/estimates.json): median ns/op and ratios in each group."""
import json
import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parent.parent
# cargo reads a relative CARGO_TARGET_DIR against the directory it runs in; so does this.
ROOT = pathlib.Path(os.environ.get("CARGO_TARGET_DIR") or REPO / "target").resolve() / "criterion"


def median(group, name):
    path = ROOT / group / name / "new" / "estimates.json"
    return json.loads(path.read_text())["median"]["point_estimate"]


print("| group | operation | tokenring | floor | jsonwebtoken | tokenring / floor | jsonwebtoken / tokenring |")
print("|---|---|---:|---:|---:|---:|---:|")
for group in ["small", "1KiB"]:
    for op in ["sign", "verify"]:
        ours, floor, jwt = (median(group, f"{who}_{op}") for who in ["tokenring", "floor", "jwt"])
        print(f"| {group} | {op} | {ours:.0f} ns | {floor:.0f} ns | {jwt:.0f} ns "
              f"| {ours / floor:.2f}× | {jwt / ours:.2f}× |")
one, many = median("small", "tokenring_verify"), median("small", "tokenring_verify_64keys")
print(f"\nVerify with a 64-key keyring: {many:.0f} ns against {one:.0f} ns with one key "
      f"({(many / one - 1) * 100:+.1f}%).")

rails = ROOT / "rails"
if rails.exists():
    verify, sign = median("rails", "native_verify"), median("rails", "native_sign")
    print(f"\nRails formats against native tokens of the same value (verify {verify:.0f} ns, "
          f"sign {sign:.0f} ns), same run:")
    print("\n| operation | time | ÷ native |")
    print("|---|---:|---:|")
    for name in ["sha256_current_verify", "sha1_legacy_verify", "gcm_decrypt", "cbc_sha1_decrypt",
                 "sha256_current_sign", "sha1_legacy_sign", "gcm_encrypt"]:
        ns = median("rails", name)
        native = sign if name.endswith(("_sign", "_encrypt")) else verify
        print(f"| {name} | {ns:.0f} ns | {ns / native:.2f}× |")
