# Shared helpers for the scripts in this folder; sourced, never run.
#
# A script sets SCRIPT_NAME and sources this file; it then has:
#   ROOT              the repository root (the folder that holds Cargo.toml)
#   say MESSAGE...    a progress line on stderr, prefixed with the script's name
#   die MESSAGE...    the same, then exit 1
#   ensure_cargo      puts ~/.cargo/bin on PATH when cargo is not found, or dies
#   MOTIONRENDER_BIN  the path of the debug build of the `motionrender` binary
#   MOTO_SERVER       (exported) moto's S3-compatible server, which scripts/setup
#                     installs into .venv-test/ and the storage tests start;
#                     an existing MOTO_SERVER is kept
# shellcheck shell=bash

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

say() {
    printf '%s: %s\n' "${SCRIPT_NAME:-scripts}" "$*" >&2
}

die() {
    say "$@"
    exit 1
}

ensure_cargo() {
    if ! command -v cargo >/dev/null 2>&1 && [ -x "$HOME/.cargo/bin/cargo" ]; then
        PATH="$HOME/.cargo/bin:$PATH"
        export PATH
    fi
    command -v cargo >/dev/null 2>&1 \
        || die "cargo not found; install the Rust toolchain (https://rustup.rs) and run this again"
}

# Cargo puts its output under CARGO_TARGET_DIR when set; a relative value is
# taken from the repository root, where the scripts run cargo.
MOTIONRENDER_BIN="${CARGO_TARGET_DIR:-target}/debug/motionrender"
case $MOTIONRENDER_BIN in
    /*) ;;
    *) MOTIONRENDER_BIN="$ROOT/$MOTIONRENDER_BIN" ;;
esac

# The storage tests (engine/tests/storage.rs) read MOTO_SERVER, and fall back
# to this same path when it is unset.
MOTO_SERVER="${MOTO_SERVER:-$ROOT/.venv-test/bin/moto_server}"
export MOTO_SERVER
