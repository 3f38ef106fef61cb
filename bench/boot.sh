#!/usr/bin/env bash
# Boot time (issue 20): boots VM images under TCG (SeaBIOS, 1 GiB, one CPU, user networking, a
# NoCloud seed), BOOT_ROUNDS times each (default 1), alternating, and prints the wall time from qemu's
# start to the serial console's "login:" and the guest's own figures: systemd-analyze, its blame and
# critical chain (the seed's runcmd prints them once the boot has finished). With more than one
# image, a table of medians with ratios to the first (e.g. the image of an earlier commit).
#   bench/boot.sh IMAGE.qcow2 [IMAGE.qcow2...]   e.g. samples/debian-vm/bin/Debug/debian-vm.qcow2
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
images=()
for image in "${@:?usage: bench/boot.sh IMAGE.qcow2 [IMAGE.qcow2...]}"; do images+=("$(realpath "$image")"); done
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

now() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

# Watches serial log $2 from $1 (date +%s.%N): sets login and finished to the seconds until
# "login:" and the analysis appeared. Gives up on the prompt 120 s after the analysis (a getty
# that never came is a finding, not a hang) and on everything after 1200 s.
watch_boot() {
  local start=$1 file=$2 after=
  login='' finished=''
  while :; do
    [ -z "$login" ] && grep -qa -- "login:" "$file" && login=$(now "$start")
    [ -z "$finished" ] && grep -qa -- "DIB-ANALYZE-END" "$file" && finished=$(now "$start") && after=$SECONDS
    if [ -n "$finished" ] && { [ -n "$login" ] || [ $((SECONDS - after)) -gt 120 ]; }; then return 0; fi
    if awk -v t="$(now "$start")" 'BEGIN { exit !(t > 1200) }'; then
      echo "bench: the boot did not finish within 1200 s ($file)" >&2
      return 1
    fi
    sleep 0.2
  done
}

declare -A logins finisheds
for round in $(seq 1 "$rounds"); do
  for i in "${!images[@]}"; do
    image=${images[$i]}
    serial=$work/serial$round-$i.log
    : > "$serial"
    start=$(date +%s.%N)
    qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -display none -monitor none -serial "file:$serial" \
      -drive "file=$image,format=qcow2,if=virtio,snapshot=on" -drive "file=$work/seed.iso,format=raw,if=virtio,readonly=on" \
      -netdev user,id=net0 -device virtio-net-pci,netdev=net0 &
    qemu=$!
    watch_boot "$start" "$serial"
    kill "$qemu"; wait "$qemu" 2>/dev/null || true; qemu=
    logins[$i]="${logins[$i]:-} ${login:-0}" finisheds[$i]="${finisheds[$i]:-} $finished"
    echo "$image, round $round: login prompt on the serial console after ${login:-(none)} s from qemu's start, analysis printed after $finished s"
    # What systemd gave up waiting for, then its own figures (colours dropped).
    grep -a 'Timed out\|Dependency failed' "$serial" | sed 's/\x1b\[[0-9;]*m//g' | tr -d '\r' || true
    sed -n '/DIB-ANALYZE-BEGIN/,/DIB-ANALYZE-END/p' "$serial" | tr -d '\r' | sed 's/\x1b\[[0-9;]*m//g' | grep -v 'DIB-ANALYZE'
  done
done

if [ "${#images[@]}" -gt 1 ]; then
  # shellcheck disable=SC2086 # the lists are words on purpose
  { l0=$(median ${logins[0]}); f0=$(median ${finisheds[0]}); }
  printf '\n%s rounds, alternating; medians (each round'"'"'s figures in brackets)\n\n' "$rounds"
  printf '| image | login prompt (s) | ratio | boot finished (s) | ratio |\n| --- | ---: | ---: | ---: | ---: |\n'
  for i in "${!images[@]}"; do
    # shellcheck disable=SC2086
    { l=$(median ${logins[$i]}); f=$(median ${finisheds[$i]}); }
    printf '| %s [%s] [%s] | %s | %s | %s | %s |\n' "${images[$i]}" "${logins[$i]# }" "${finisheds[$i]# }" "$l" \
      "$(ratio "$l" "$l0")" "$f" "$(ratio "$f" "$f0")"
  done
fi
