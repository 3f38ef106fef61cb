#!/usr/bin/env bash
# Ramdisk sizes and boot times (issue 14): builds one Debian ramdisk (debian-minimal, the cloud
# kernel, the ramdisk element and the tests' ramdisk-marker, whose init.d part powers off), then,
# side by side in this run, recompresses its cpio with each compressor the ramdisk element offers
# and boots each with qemu -kernel/-initrd (TCG) to the marker. Prints per compressor: the size,
# the time to compress, the time from qemu's start to the marker, and each as a ratio to zstd -9
# (the element's default).
# Needs a built solution (the ramdisk-image-create CLI in artifacts/), root, and the Debian mirror.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cli=$repo/artifacts/bin/DiskImageBuilder.Cli.Ramdisk/debug/DiskImageBuilder.Cli.Ramdisk
[ -x "$cli" ] || { echo "build the solution first: $cli is missing" >&2; exit 1; }
for tool in qemu-system-x86_64 cpio zstd xz gzip bc; do
  command -v "$tool" > /dev/null || { echo "missing host program: $tool (eng/host-tools.sh installs it)" >&2; exit 1; }
done

dir=$(mktemp -d /var/tmp/dib-ramdisk-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
(cd "$dir" && ELEMENTS_PATH=$repo/tests/elements "$cli" -o deploy -p linux-image-cloud-amd64 debian-minimal ramdisk-marker > build.log 2>&1) \
  || { tail -30 "$dir/build.log"; exit 1; }
zstd -dc "$dir/deploy.initramfs" > "$dir/ramdisk.cpio"

now() { date +%s.%N; }
boot() {
  local start end
  start=$(now)
  timeout 600 qemu-system-x86_64 -accel tcg -m 1024 -smp 2 -no-reboot -kernel "$dir/deploy.kernel" -initrd "$1" \
    -append "console=ttyS0 quiet" -netdev user,id=n0 -device virtio-net-pci,netdev=n0 \
    -display none -monitor none -serial "file:$1.log" > /dev/null
  end=$(now)
  grep -q RAMDISK-MARKER "$1.log" || { echo "no marker booting $1" >&2; exit 1; }
  echo "$end - $start" | bc
}

declare -A size seconds booted
kinds=("zstd -3" "zstd -9" "zstd -19" "xz -6" "gzip -9")
for kind in "${kinds[@]}"; do
  file=$dir/ramdisk.${kind// /}
  start=$(now)
  case $kind in
    zstd*) zstd -q "${kind#zstd }" -T0 -c "$dir/ramdisk.cpio" > "$file" ;;
    xz*) xz "${kind#xz }" --check=crc32 -T0 -c "$dir/ramdisk.cpio" > "$file" ;;
    gzip*) gzip "${kind#gzip }" -n -c "$dir/ramdisk.cpio" > "$file" ;;
  esac
  seconds[$kind]=$(echo "$(now) - $start" | bc)
  size[$kind]=$(stat -c %s "$file")
  booted[$kind]=$(boot "$file")
done

base="zstd -9"
printf '%-9s %10s %7s %10s %7s %10s %7s\n' compressor "size MB" ratio "compress s" ratio "boot s" ratio
for kind in "${kinds[@]}"; do
  printf '%-9s %10.1f %7.2f %10.1f %7.2f %10.1f %7.2f\n' "$kind" \
    "$(echo "${size[$kind]} / 1000000" | bc -l)" "$(echo "${size[$kind]} / ${size[$base]}" | bc -l)" \
    "${seconds[$kind]}" "$(echo "${seconds[$kind]} / ${seconds[$base]}" | bc -l)" \
    "${booted[$kind]}" "$(echo "${booted[$kind]} / ${booted[$base]}" | bc -l)"
done
echo "cpio: $(echo "$(stat -c %s "$dir/ramdisk.cpio") / 1000000" | bc) MB uncompressed; boot = qemu start to the init.d marker (TCG, 2 vCPUs)"
