# Sourced by ci/ scripts (and by you: `source ci/env.sh`): puts the project's pinned tools first
# on PATH. Everything here lives in the repository's ignored .tools/ directory.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export ROOT
export TOOLS="$ROOT/.tools"
export PATH="$TOOLS/bin:$TOOLS/cargo/bin:$PATH"
