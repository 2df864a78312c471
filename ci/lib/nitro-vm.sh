# ci/lib/nitro-vm.sh: boot an EIF file under qemu's nitro-enclave machine, as nitro-cli would boot
# it on a Nitro instance. Sourced by ci/boot-test and ci/boot-proxy-test after ci/lib/common.sh
# (`log`, `die`, and the array `pids` whose processes its exit trap stops).
#
#   nitro_vm_tools                 checks the tools and sets NITRO_QEMU (ci/qemu-nitro's build)
#   nitro_vm_vsock WORK            starts vhost-device-vsock; sets NITRO_UDS (the host side)
#   nitro_vm_boot WORK EIF [TIMEOUT_S]
#                                  plays nitro-cli's heartbeat listener on the parent's port 9000
#                                  (nitro-parent, answering within TIMEOUT_S, default 60), then
#                                  starts qemu; sets NITRO_QEMU_PID, NITRO_CONSOLE, NITRO_HEARTBEAT
#                                  (the file that receives nitro-parent's verdict, one JSON line)
#   nitro_vm_heartbeat             waits for that verdict; sets NITRO_HEARTBEAT_VERDICT
#   nitro_vm_stop                  stops the VM
#
# The topology is Nitro's: the parent is vsock CID 3 (vhost-device-vsock is built with the host
# as CID 3, ci/patches/), the enclave CID 16 (nitro-cli's first enclave). A guest connection to
# 3:PORT arrives on the Unix socket ${NITRO_UDS}_PORT; the host reaches guest port PORT by
# writing `CONNECT PORT` on ${NITRO_UDS}. Nothing here opens AF_VSOCK on the host.
#
# The machine loads the EIF file itself (its own EIF reader), computes PCR0/1/2 from it and gives
# the guest a virtio NSM device holding them; software emulation (TCG), 2 vCPUs, 1 GiB.

NITRO_ENCLAVE_CID=16
NITRO_VM_MEMORY=${NITRO_VM_MEMORY:-1024M}
NITRO_VM_CPUS=${NITRO_VM_CPUS:-2}

nitro_vm_tools() {
  local tool
  for tool in vhost-device-vsock socat jq; do
    command -v "$tool" >/dev/null || die "$tool not found: run ci/bootstrap"
  done
  [[ -n ${NITRO_PARENT:-} && -x $NITRO_PARENT ]] || die "NITRO_PARENT (the nitro-parent binary) is not set"
  NITRO_QEMU=$("$here/qemu-nitro") || die "ci/qemu-nitro failed"
  [[ -d /usr/share/qemu ]] || die "/usr/share/qemu (Debian's qemu firmware) is missing: run ci/bootstrap"
}

nitro_vm_vsock() { # WORK
  local work=$1 n
  NITRO_VHOST_SOCK=$work/vhost.sock
  NITRO_UDS=$work/vsock.sock
  vhost-device-vsock --guest-cid "$NITRO_ENCLAVE_CID" --socket "$NITRO_VHOST_SOCK" --uds-path "$NITRO_UDS" \
    >"$work/vhost.log" 2>&1 &
  pids+=($!)
  for n in $(seq 50); do [[ -S $NITRO_VHOST_SOCK ]] && return 0; sleep 0.1; done
  cat "$work/vhost.log" >&2
  die "vhost-device-vsock did not create $NITRO_VHOST_SOCK"
}

nitro_vm_boot() { # WORK EIF [HEARTBEAT_TIMEOUT_S]
  local work=$1 eif=$2 timeout_s=${3:-60} n
  NITRO_CONSOLE=$work/console.log
  NITRO_HEARTBEAT=$work/heartbeat.json
  rm -f "$NITRO_HEARTBEAT" "$work/parent.ready"
  # nitro-cli binds its listener before it starts the enclave; so does this.
  "$NITRO_PARENT" --listen "${NITRO_UDS}_9000" --timeout-s "$timeout_s" --ready-file "$work/parent.ready" \
    >"$NITRO_HEARTBEAT" 2>"$work/parent.log" &
  NITRO_PARENT_PID=$!
  pids+=("$NITRO_PARENT_PID")
  for n in $(seq 50); do [[ -f $work/parent.ready ]] && break; sleep 0.1; done
  [[ -f $work/parent.ready ]] || { cat "$work/parent.log" >&2; die "nitro-parent did not bind ${NITRO_UDS}_9000"; }

  "$NITRO_QEMU" \
    -M "nitro-enclave,vsock=vsock0,id=boot-test" -m "$NITRO_VM_MEMORY" -smp "$NITRO_VM_CPUS" \
    -accel tcg -cpu max -L /usr/share/qemu \
    -nodefaults -no-user-config -display none -monitor none -no-reboot \
    -serial "file:$NITRO_CONSOLE" \
    -kernel "$eif" \
    -chardev "socket,id=vsock0,path=$NITRO_VHOST_SOCK" \
    >"$work/qemu.log" 2>&1 &
  NITRO_QEMU_PID=$!
  pids+=("$NITRO_QEMU_PID")
  log "nitro-enclave VM started (qemu pid $NITRO_QEMU_PID, $NITRO_VM_CPUS vCPUs, $NITRO_VM_MEMORY, software emulation); heartbeat due within $timeout_s s"
}

nitro_vm_heartbeat() { # waits for nitro-parent's verdict; sets NITRO_HEARTBEAT_VERDICT (JSON, or "")
  # Not in a subshell: `wait` needs nitro-parent to be this shell's child.
  wait "$NITRO_PARENT_PID" 2>/dev/null || true
  NITRO_HEARTBEAT_VERDICT=$(cat "$NITRO_HEARTBEAT" 2>/dev/null || true)
}

nitro_vm_stop() { # stops the VM (and leaves vhost-device-vsock running)
  kill "$NITRO_QEMU_PID" 2>/dev/null || true
  wait "$NITRO_QEMU_PID" 2>/dev/null || true
}
