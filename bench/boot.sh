#!/usr/bin/env bash
# Boot time (issue 20): boots VM images under TCG (SeaBIOS, 1 GiB, one CPU, user networking, a
# NoCloud seed), BOOT_ROUNDS times each (default 1), alternating (BOOT_PARALLEL=1: at once), and prints the wall time from qemu's
# start to the serial console's "login:", to the first SSH login (the seed's key, the image's default
# user, as a cloud user logs in) and the guest's own figures: systemd-analyze, its blame and
# critical chain (the seed's runcmd prints them once the boot has finished). With more than one
# image, a table of medians with ratios to the first (e.g. the image of an earlier commit).
#   bench/boot.sh IMAGE.qcow2 [IMAGE.qcow2...]   e.g. samples/debian-vm/bin/Debug/debian-vm.qcow2
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
images=()
for image in "${@:?usage: bench/boot.sh IMAGE.qcow2 [IMAGE.qcow2...]}"; do images+=("$(realpath "$image")"); done
rounds=${BOOT_ROUNDS:-1}
# The image's default user, whom cloud-init gives the seed's SSH key.
user=${BOOT_USER:-debian}
work=$(mktemp -d /var/tmp/dib-boot.XXXXXX)
# The VMs of the running round, by image index: qemu's pid, its start and serial log, the
# seconds until "login:", until the analysis appeared and until the first SSH login, and the pid of
# the loop that tries that login.
declare -A pids=() starts=() serials=() login=() finished=() after=() sshlogin=() sshers=()
cleanup() {
  for i in "${!pids[@]}"; do stop_vm "$i"; done
  if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: serial logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

ssh-keygen -q -t ed25519 -N '' -f "$work/key"
cat > "$work/user-data" <<YAML
#cloud-config
ssh_authorized_keys: ['$(cat "$work/key.pub")']
YAML
cat >> "$work/user-data" <<'YAML'
runcmd:
  - [sh, -c, 'setsid sh -c "systemctl is-system-running --wait >/dev/null 2>&1; { echo DIB-ANALYZE-BEGIN; systemd-analyze; systemd-analyze blame | head -n 20; systemd-analyze critical-chain --no-pager; echo DIB-ANALYZE-END; } > /dev/ttyS0 2>&1" < /dev/null > /dev/null 2>&1 &']
YAML
printf 'instance-id: iid-dib-boot-bench\nlocal-hostname: boot-bench\n' > "$work/meta-data"
cloud-localds "$work/seed.iso" "$work/user-data" "$work/meta-data"

now() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

start_vm() {
  local i=$1 round=$2
  serials[$i]=$work/serial$round-$i.log
  : > "${serials[$i]}"
  login[$i]='' finished[$i]='' after[$i]='' sshlogin[$i]=''
  rm -f "$work/ssh$i"
  local port=$((20000 + ($$ % 2000) * 10 + i))
  starts[$i]=$(date +%s.%N)
  qemu-system-x86_64 -accel tcg -m 1024 -smp 1 -display none -monitor none -serial "file:${serials[$i]}" \
    -drive "file=${images[$i]},format=qcow2,if=virtio,snapshot=on" -drive "file=$work/seed.iso,format=raw,if=virtio,readonly=on" \
    -netdev "user,id=net0,hostfwd=tcp:127.0.0.1:$port-:22" -device virtio-net-pci,netdev=net0 &
  pids[$i]=$!
  # The first SSH login: tried every second beside the watch, so a slow try delays no other figure.
  ( until ssh -q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=5 \
      -i "$work/key" -p "$port" "$user@127.0.0.1" true < /dev/null 2>/dev/null; do sleep 1; done
    now "${starts[$i]}" > "$work/ssh$i" ) &
  sshers[$i]=$!
}

# Watches the running VMs until each has printed its analysis and its login prompt and let an SSH
# login in, then stops it.
# Gives up on a prompt or an SSH login 120 s after the analysis (a getty that never came is a finding, not a hang)
# and on everything after 1200 s.
watch_vms() {
  local i file
  while [ "${#pids[@]}" -gt 0 ]; do
    for i in "${!pids[@]}"; do
      file=${serials[$i]}
      [ -z "${login[$i]}" ] && grep -qa -- "login:" "$file" && login[$i]=$(now "${starts[$i]}")
      [ -z "${finished[$i]}" ] && grep -qa -- "DIB-ANALYZE-END" "$file" && finished[$i]=$(now "${starts[$i]}") && after[$i]=$SECONDS
      [ -z "${sshlogin[$i]}" ] && [ -s "$work/ssh$i" ] && sshlogin[$i]=$(cat "$work/ssh$i")
      if [ -n "${finished[$i]}" ] && { { [ -n "${login[$i]}" ] && [ -n "${sshlogin[$i]}" ]; } || [ $((SECONDS - after[$i])) -gt 120 ]; }; then
        stop_vm "$i"
      elif ! kill -0 "${pids[$i]}" 2>/dev/null; then
        echo "bench: qemu ended before the boot finished (${images[$i]}; BENCH_KEEP=1 keeps its serial log)" >&2
        exit 1
      elif awk -v t="$(now "${starts[$i]}")" 'BEGIN { exit !(t > 1200) }'; then
        echo "bench: the boot did not finish within 1200 s ($file)" >&2
        exit 1
      fi
    done
    sleep 0.2
  done
}

stop_vm() {
  # The SSH loop's ssh or sleep too: killing the loop's shell alone would leave it running.
  # shellcheck disable=SC2046 # a list of pids
  kill "${pids[$1]}" "${sshers[$1]:-}" $([ -z "${sshers[$1]:-}" ] || pgrep -P "${sshers[$1]}") 2>/dev/null || true
  wait "${pids[$1]}" "${sshers[$1]:-}" 2>/dev/null || true
  unset "pids[$1]" "sshers[$1]"
}

report() {
  local i=$1 round=$2
  logins[$i]="${logins[$i]:-} ${login[$i]:-0}" sshs[$i]="${sshs[$i]:-} ${sshlogin[$i]:-0}" finisheds[$i]="${finisheds[$i]:-} ${finished[$i]}"
  echo "${images[$i]}, round $round: login prompt on the serial console after ${login[$i]:-(none)} s from qemu's start, SSH login after ${sshlogin[$i]:-(none)} s, analysis printed after ${finished[$i]} s"
  # What systemd gave up waiting for, then its own figures (colours dropped).
  grep -a 'Timed out\|Dependency failed' "${serials[$i]}" | sed 's/\x1b\[[0-9;]*m//g' | tr -d '\r' || true
  sed -n '/DIB-ANALYZE-BEGIN/,/DIB-ANALYZE-END/p' "${serials[$i]}" | tr -d '\r' | sed 's/\x1b\[[0-9;]*m//g' | grep -v 'DIB-ANALYZE'
}

# BOOT_PARALLEL=1: each round boots the images at once (one vCPU each, so at most as many images
# as the host has cores), so that the host's slow stretches fall on all of them alike; otherwise
# one after another.
declare -A logins sshs finisheds
for round in $(seq 1 "$rounds"); do
  if [ "${BOOT_PARALLEL:-0}" = 1 ]; then
    for i in "${!images[@]}"; do start_vm "$i" "$round"; done
    watch_vms
    for i in "${!images[@]}"; do report "$i" "$round"; done
  else
    for i in "${!images[@]}"; do start_vm "$i" "$round"; watch_vms; report "$i" "$round"; done
  fi
done

if [ "${#images[@]}" -gt 1 ]; then
  # shellcheck disable=SC2086 # the lists are words on purpose
  { l0=$(median ${logins[0]}); s0=$(median ${sshs[0]}); f0=$(median ${finisheds[0]}); }
  printf '\n%s rounds, %s; medians (each round'"'"'s figures in brackets)\n\n' "$rounds" \
    "$([ "${BOOT_PARALLEL:-0}" = 1 ] && echo 'the images booted at once' || echo alternating)"
  printf '| image | login prompt (s) | ratio | SSH login (s) | ratio | boot finished (s) | ratio |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n'
  for i in "${!images[@]}"; do
    # shellcheck disable=SC2086
    { l=$(median ${logins[$i]}); s=$(median ${sshs[$i]}); f=$(median ${finisheds[$i]}); }
    printf '| %s [%s] [%s] [%s] | %s | %s | %s | %s | %s | %s |\n' "${images[$i]}" "${logins[$i]# }" "${sshs[$i]# }" "${finisheds[$i]# }" \
      "$l" "$(ratio "$l" "$l0")" "$s" "$(ratio "$s" "$s0")" "$f" "$(ratio "$f" "$f0")"
  done
fi
