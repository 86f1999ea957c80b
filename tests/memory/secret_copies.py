#!/usr/bin/env python3
"""Counts the base64 copies of keyring secrets left in a running server's memory.

Starts etcd on free loopback ports, runs the example server (debug build, feature `etcd`) on
an etcd keyring and, for comparison, on a keyring file; makes N keyring changes through the
CLI (each a reload on the server); then dumps the server's memory with gdb's `gcore` and
counts, for every secret the keyring has held, how often its base64 appears. A measurement,
run by hand (SECURITY.md cites it), not a test:

    cargo build --all-features --workspace --examples
    python3 tests/memory/secret_copies.py [--changes 8]

Needs etcd and gdb on PATH.
"""
import argparse
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "debug"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args):
    return subprocess.run([TARGET / "tokenring", *args], check=True, capture_output=True,
                          text=True).stdout


def secrets_of(text):
    return [k["secret"] for k in json.loads(text)["keys"]]


def server(workdir, keyring, extra=()):
    users = workdir / "users.json"
    if not users.exists():
        subprocess.run([TARGET / "examples" / "server", "add-user", users, "u"], input="pw\n",
                       text=True, check=True, capture_output=True)
    process = subprocess.Popen(
        [TARGET / "examples" / "server", "--keyring", keyring, "--users", users,
         "--addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    process.stdout.readline()
    process.stdout.readline()
    return process


def copies(pid, secrets, workdir):
    core = workdir / "core"
    subprocess.run(["gcore", "-o", core, str(pid)], check=True, capture_output=True)
    dumped = next(workdir.glob("core*")).read_bytes()
    for path in workdir.glob("core*"):
        path.unlink()
    return sum(dumped.count(s.encode()) for s in set(secrets))


def measure(changes, workdir, keyring, read_secrets, extra=()):
    process = server(workdir, keyring, extra)
    try:
        seen = set(read_secrets())
        for i in range(changes):
            cli("keyring", "add", keyring, "--id", f"k{i + 1}")
            time.sleep(0.5)
            seen.update(read_secrets())
        time.sleep(1)
        return copies(process.pid, seen, workdir), len(seen)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=8)
    changes = parser.parse_args().changes
    for tool in ("etcd", "gcore"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not on PATH")
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(scratch)
        # The file source.
        path = workdir / "keyring.json"
        cli("keyring", "init", str(path), "--id", "k0")
        found, held = measure(changes, workdir, str(path), lambda: secrets_of(path.read_text()))
        print(f"file source: {found} base64 copies of {held} secrets after {changes} reloads")
        # The etcd source.
        client, peer = free_port(), free_port()
        etcd = subprocess.Popen(
            ["etcd", "--data-dir", workdir / "etcd", "--name", "m",
             "--listen-client-urls", f"http://127.0.0.1:{client}",
             "--advertise-client-urls", f"http://127.0.0.1:{client}",
             "--listen-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
             "--initial-cluster", f"m=http://127.0.0.1:{peer}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            ring = f"etcd://127.0.0.1:{client}/mem"
            for _ in range(100):
                try:
                    cli("keyring", "init", ring, "--id", "k0")
                    break
                except subprocess.CalledProcessError:
                    time.sleep(0.2)

            def stored():
                body = json.dumps({"key": base64.b64encode(b"/mem/keyring").decode()}).encode()
                request = urllib.request.Request(f"http://127.0.0.1:{client}/v3/kv/range", body)
                answer = json.load(urllib.request.urlopen(request))
                return secrets_of(base64.b64decode(answer["kvs"][0]["value"]).decode())

            found, held = measure(changes, workdir, ring, stored, ["--node-id", "n1"])
            print(f"etcd source: {found} base64 copies of {held} secrets after {changes} reloads")
        finally:
            etcd.kill()
            etcd.wait()


if __name__ == "__main__":
    main()
