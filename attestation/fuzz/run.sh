#!/usr/bin/env bash
# Builds the fuzz targets with nightly cargo-fuzz and runs each for SECONDS (default 10) from the
# seeds: real documents and the bad-document corpus for `verify`, real payloads for `payload`.
# Needs the nightly toolchain and cargo-fuzz (ci/pins/cargo-fuzz-tools.txt).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
seconds="${1:-10}"
cd "$here"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/verify" "$work/payload"
cp ../tests/data/*.cose ../tests/corpus/*.cose "$work/verify/"
cp seeds/payload/* "$work/payload/"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$here/target}"
for target in verify payload; do
  cargo +nightly fuzz run "$target" "$work/$target" -- -max_total_time="$seconds" -max_len=16384 >&2
done
echo "fuzz: verify and payload ran ${seconds}s each without a crash" >&2
