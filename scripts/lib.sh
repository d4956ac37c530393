# Shared helpers for the scripts in this folder; sourced, never run.
#
# A script sets SCRIPT_NAME and sources this file; it then has:
#   ROOT              the repository root (the folder that holds Cargo.toml)
#   say MESSAGE...    a progress line on stderr, prefixed with the script's name
#   die MESSAGE...    the same, then exit 1
#   ensure_cargo      puts ~/.cargo/bin on PATH when cargo is not found, or dies
#   TARGET_DIR        cargo's output folder (CARGO_TARGET_DIR, else ROOT/target)
#   MOTIONRENDER_BIN  the path of the debug build of the `motionrender` binary
#   MOTIONRENDER_RELEASE_BIN  the same for the release build
#   MOTO_SERVER       (exported) moto's S3-compatible server, which scripts/setup
#                     installs into .venv-test/ and the storage tests start;
#                     an existing MOTO_SERVER is kept
#   REDIS_SERVER      (exported) the redis-server binary (Debian's redis-server
#                     package, which scripts/setup installs) the work-queue
#                     tests start on a free port; an existing REDIS_SERVER is kept
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
TARGET_DIR="${CARGO_TARGET_DIR:-target}"
case $TARGET_DIR in
    /*) ;;
    *) TARGET_DIR="$ROOT/$TARGET_DIR" ;;
esac
MOTIONRENDER_BIN="$TARGET_DIR/debug/motionrender"
MOTIONRENDER_RELEASE_BIN="$TARGET_DIR/release/motionrender"

# The storage tests (engine/tests/storage.rs) read MOTO_SERVER, and fall back
# to this same path when it is unset.
MOTO_SERVER="${MOTO_SERVER:-$ROOT/.venv-test/bin/moto_server}"
export MOTO_SERVER

# The work-queue tests (tests/suite/farm_*.rs) read REDIS_SERVER, and fall
# back to redis-server on PATH when it is unset.
REDIS_SERVER="${REDIS_SERVER:-$(command -v redis-server || echo /usr/bin/redis-server)}"
export REDIS_SERVER
