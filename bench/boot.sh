#!/usr/bin/env bash
# Boot time (issue 20): boots a VM image under TCG (SeaBIOS, 1 GiB, user networking, as the tests),
# BOOT_ROUNDS times (default 1), and prints the wall time from qemu's start to the serial console's
# "login:" and the guest's own figures: systemd-analyze, its blame and critical chain (a NoCloud
# seed's runcmd prints them once the boot has finished).
#   bench/boot.sh IMAGE.qcow2        e.g. samples/debian-vm/bin/Debug/debian-vm.qcow2
set -euo pipefail
image=$(realpath "${1:?usage: bench/boot.sh IMAGE.qcow2}")
rounds=${BOOT_ROUNDS:-1}
work=$(mktemp -d /var/tmp/dib-boot.XXXXXX)
qemu=
cleanup() {
  if [ -n "$qemu" ]; then kill "$qemu" 2>/dev/null || true; wait "$qemu" 2>/dev/null || true; fi
  if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: serial logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

cat > "$work/user-data" <<'YAML'
#cloud-config
runcmd:
  - [sh, -c, 'setsid sh -c "systemctl is-system-running --wait >/dev/null 2>&1; { echo DIB-ANALYZE-BEGIN; systemd-analyze; systemd-analyze blame | head -n 20; systemd-analyze critical-chain --no-pager; echo DIB-ANALYZE-END; } > /dev/ttyS0 2>&1" < /dev/null > /dev/null 2>&1 &']
YAML
printf 'instance-id: iid-dib-boot-bench\nlocal-hostname: boot-bench\n' > "$work/meta-data"
cloud-localds "$work/seed.iso" "$work/user-data" "$work/meta-data"

# Seconds from $1 (date +%s.%N) until $2 appears in file $3; waits at most $4 s.
wait_for() {
  local start=$1 text=$2 file=$3 limit=$4
  while ! grep -qa -- "$text" "$file" 2>/dev/null; do
    if awk -v a="$start" -v b="$(date +%s.%N)" -v l="$limit" 'BEGIN { exit !(b - a > l) }'; then
      echo "bench: no '$text' on the serial console after $limit s ($file)" >&2
      return 1
    fi
    sleep 0.2
  done
  awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'
}

for round in $(seq 1 "$rounds"); do
  serial=$work/serial$round.log
  : > "$serial"
  start=$(date +%s.%N)
  qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -display none -monitor none -serial "file:$serial" \
    -drive "file=$image,format=qcow2,if=virtio,snapshot=on" -drive "file=$work/seed.iso,format=raw,if=virtio,readonly=on" \
    -netdev user,id=net0 -device virtio-net-pci,netdev=net0 &
  qemu=$!
  login=$(wait_for "$start" "login:" "$serial" 900)
  finished=$(wait_for "$start" "DIB-ANALYZE-END" "$serial" 900)
  kill "$qemu"; wait "$qemu" 2>/dev/null || true; qemu=
  echo "round $round: login prompt after $login s (qemu start to 'login:'), analysis printed after $finished s"
  sed -n '/DIB-ANALYZE-BEGIN/,/DIB-ANALYZE-END/p' "$serial" | tr -d '\r' | grep -v 'DIB-ANALYZE'
done
