# ci/lib/common.sh: what the ci/ scripts share. Sourced after ci/env.sh:
#
#   lib_init NAME           names the script in its messages, starts its clock, installs the exit
#                           trap that stops every process started through `spawn` or `anvil_start`
#                           (newest first: SIGTERM, up to 5 s, then SIGKILL) and runs `at_exit`
#                           commands; SIGINT exits 130, SIGTERM 143
#   step TEXT               a heading: `== NAME: TEXT (+N s)`
#   log TEXT / info TEXT    a line to stderr (prefixed with NAME / indented)
#   die TEXT                the error line, then exit $DIE_STATUS (default 1)
#   at_exit COMMAND         runs COMMAND (one string, eval'd) when the script exits
#   spawn NAME LOG CMD...   starts CMD in the background, output to LOG; its pid joins `pids`
#   wait_for SECS WHAT CMD...
#                           polls CMD every 0.2 s until it succeeds (0) or SECS pass (1)
#   anvil_start VAR LOG [ANVIL ARGS...]
#                           an anvil on a free 127.0.0.1 port (the kernel picks it); sets VAR to
#                           its http:// URL; stopped on exit
#   check TEXT CMD...       runs CMD: logs `ok   TEXT`, or `FAIL TEXT` and counts it in `failures`
#   report_failed           the failed checks again, then their count: the last lines of the
#                           log, where a log cut to its end still names them
#   forge_build             the one build of the contracts: the whole Foundry project into
#                           contracts/out (forge's default; its cache skips unchanged sources),
#                           which every script, test and the devnet read; returns forge's status
#
# `pids` and `names` are the started processes (ci/lib/nitro-vm.sh appends to `pids` too).

pids=()
names=()
LIB_AT_EXIT=()
failures=0
LIB_FAILED=()

lib_init() {
  LIB_NAME=$1
  LIB_STARTED=$(date +%s)
  trap lib_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

step() {
  printf '\n\033[1m== %s: %s\033[0m  (+%d s)\n' "$LIB_NAME" "$*" "$(( $(date +%s) - LIB_STARTED ))" >&2
}
log() { printf '\033[1m%s:\033[0m %s\n' "$LIB_NAME" "$*" >&2; }
info() { printf '      %s\n' "$*" >&2; }
die() { printf '%s: error: %s\n' "$LIB_NAME" "$*" >&2; exit "${DIE_STATUS:-1}"; }
at_exit() { LIB_AT_EXIT+=("$1"); }

lib_cleanup() {
  local status=$? i pid
  trap - EXIT INT TERM
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    pid=${pids[i]}
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; continue; }
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  for ((i = ${#LIB_AT_EXIT[@]} - 1; i >= 0; i--)); do eval "${LIB_AT_EXIT[i]}" || true; done
  exit "$status"
}

spawn() {
  local name=$1 logfile=$2; shift 2
  "$@" >"$logfile" 2>&1 &
  pids+=($!)
  names+=("$name")
}

wait_for() {
  local limit=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + limit ))
  until "$@" >/dev/null 2>&1; do
    [[ $(date +%s) -lt $deadline ]] || return 1
    sleep 0.2
  done
  info "$what ready"
}

anvil_start() {
  local var=$1 logfile=$2; shift 2
  spawn anvil "$logfile" anvil --host 127.0.0.1 --port 0 "$@"
  wait_for 30 "anvil" grep -q '^Listening on ' "$logfile" || die "anvil did not start (see $logfile)"
  printf -v "$var" 'http://%s' "$(sed -n 's/^Listening on //p' "$logfile" | head -1)"
}

check() {
  local what=$1; shift
  if "$@"; then
    log "ok   $what"
  else
    log "FAIL $what"
    failures=$((failures + 1))
    LIB_FAILED+=("$what")
  fi
}

report_failed() {
  local what
  for what in "${LIB_FAILED[@]}"; do log "failed: $what"; done
  log "$failures check(s) failed"
}

forge_build() {
  (cd "$ROOT/contracts" && forge build -q)
}
