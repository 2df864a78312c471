# Sourced by ci/ scripts (and by you: `source ci/env.sh`): puts the project's pinned tools first
# on PATH. They live in the repository's ignored .tools/ directory, which ci/bootstrap makes a
# link to a per-user cache ($TEE_TOOLS_CACHE, default ~/.cache/tee-marketplace-tools) so that a
# fresh clone on the same machine reuses what an earlier one installed. Every entry in it is
# keyed by its pins (stamps, cargo's install record, the kernel cache key), never by the clone.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export TOOLS="$ROOT/.tools"
export TOOLS_CACHE="${TEE_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tee-marketplace-tools}"
export PATH="$TOOLS/bin:$TOOLS/cargo/bin:$PATH"
