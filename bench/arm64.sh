#!/usr/bin/env bash
# arm64 on amd64 (issue 19): side by side in one run, builds the same Debian VM image (debian vm,
# qcow2) cold for amd64 (native) and for arm64 (every in-image program under qemu-user-static
# through binfmt_misc), each with an empty image cache, then boots each under TCG to its login
# prompt (qemu-system-x86_64 with SeaBIOS; qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on with AAVMF),
# each with a NoCloud seed as a cloud gives one: without any, cloud-init on arm64 (no DMI to rule clouds
# out) probes every metadata service for about four minutes, which is no boot time.
# Prints the wall times and arm64's ratio to amd64's.
# Needs a built solution (the disk-image-create CLI in artifacts/), root, and the Debian mirror.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cli=$repo/artifacts/bin/DiskImageBuilder.Cli/debug/DiskImageBuilder.Cli
[ -x "$cli" ] || { echo "build the solution first: $cli is missing" >&2; exit 1; }
for tool in qemu-system-x86_64 qemu-system-aarch64 qemu-aarch64-static arch-test bc cloud-localds; do
  command -v "$tool" > /dev/null || { echo "missing host program: $tool (eng/host-tools.sh installs it)" >&2; exit 1; }
done

dir=$(mktemp -d /var/tmp/dib-arm64-bench.XXXXXX)
# BENCH_KEEP=1 keeps the folder (build logs, serial logs).
if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: kept in $dir"; else trap 'rm -rf "$dir"' EXIT; fi
now() { date +%s.%N; }
printf '#cloud-config\n' > "$dir/user-data"
printf 'instance-id: iid-dib-arm64-bench\nlocal-hostname: arm64-bench\n' > "$dir/meta-data"
cloud-localds "$dir/seed.iso" "$dir/user-data" "$dir/meta-data"

build() {
  local arch=$1 start
  start=$(now)
  (cd "$dir" && DIB_IMAGE_CACHE=$dir/cache-$arch "$cli" -a "$arch" -t qcow2 -o "$arch" debian vm > "$arch.log" 2>&1) \
    || { tail -30 "$dir/$arch.log" >&2; exit 1; }
  echo "$(now) - $start" | bc
}

# Seconds from qemu's start to the login prompt on the serial console.
boot() {
  local arch=$1 start pid
  local -a qemu
  if [ "$arch" = arm64 ]; then
    cp /usr/share/AAVMF/AAVMF_VARS.fd "$dir/vars.fd"
    qemu=(qemu-system-aarch64 -M virt -cpu "max,pauth-impdef=on" -drive "if=pflash,format=raw,readonly=on,file=/usr/share/AAVMF/AAVMF_CODE.fd"
      -drive "if=pflash,format=raw,file=$dir/vars.fd" -m 2048)
  else
    qemu=(qemu-system-x86_64 -m 1024)
  fi
  start=$(now)
  "${qemu[@]}" -accel tcg -smp 2 -no-reboot -drive "file=$dir/$arch.qcow2,format=qcow2,if=virtio,snapshot=on" \
    -drive "file=$dir/seed.iso,format=raw,if=virtio,readonly=on" \
    -netdev user,id=n0 -device virtio-net-pci,netdev=n0 -display none -monitor none -serial "file:$dir/$arch.serial" > /dev/null &
  pid=$!
  for _ in $(seq 1 1800); do
    grep -q 'login:' "$dir/$arch.serial" 2> /dev/null && break
    sleep 1
  done
  local end
  end=$(now)
  kill "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  grep -q 'login:' "$dir/$arch.serial" || { echo "$arch: no login prompt in 30 minutes" >&2; exit 1; }
  echo "$end - $start" | bc
}

declare -A built booted
for arch in amd64 arm64; do
  built[$arch]=$(build "$arch")
  booted[$arch]=$(boot "$arch")
done

printf '%-6s %12s %7s %10s %7s\n' arch "cold build s" ratio "boot s" ratio
for arch in amd64 arm64; do
  printf '%-6s %12.0f %7.2f %10.0f %7.2f\n' "$arch" "${built[$arch]}" "$(echo "${built[$arch]} / ${built[amd64]}" | bc -l)" \
    "${booted[$arch]}" "$(echo "${booted[$arch]} / ${booted[amd64]}" | bc -l)"
done
echo "cold = empty image cache (mmdebstrap from the mirror); boot = qemu start to the login prompt (TCG, 2 vCPUs, NoCloud seed); load: $(cut -d' ' -f1-3 /proc/loadavg)"
