#!/usr/bin/env bash
# Fuzz smoke run: 10 s per target (EIF reader, cpio reader), seeded with a valid EIF and cpio.
# Needs the nightly toolchain and cargo-fuzz (pinned in ci/pins/cargo-fuzz-tools.txt).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=/dev/null
source "$root/ci/env.sh"
secs="${FUZZ_SECONDS:-10}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target/eif-builder-fuzz}"
cd "$here"
seeds="$(mktemp -d)"
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$seeds/eif" "$seeds/cpio" "$seeds/tree/bin"
printf 'hello' >"$seeds/tree/bin/app"
ln -s bin/app "$seeds/tree/init"
cargo run -q --manifest-path "$root/eif-builder/Cargo.toml" --bin eif-builder -- \
  ramdisk --root "$seeds/tree" -o "$seeds/cpio/seed.cpio"
printf 'kernel' >"$seeds/kernel"
cargo run -q --manifest-path "$root/eif-builder/Cargo.toml" --bin eif-builder -- \
  build --kernel "$seeds/kernel" --cmdline console=ttyS0 --ramdisk "$seeds/cpio/seed.cpio" \
  -o "$seeds/eif/seed.eif" >/dev/null
for target in eif_reader:eif cpio_reader:cpio; do
  name="${target%%:*}"
  corpus="$seeds/${target##*:}"
  echo "fuzz smoke: $name for ${secs}s" >&2
  cargo +nightly fuzz run "$name" "$corpus" -- -max_total_time="$secs" -rss_limit_mb=2048 >&2
done
echo "fuzz smoke: ok" >&2
