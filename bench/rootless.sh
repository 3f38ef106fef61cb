#!/usr/bin/env bash
# Benchmark (issue 19): a cold build of samples/debian-vm as root and as an ordinary user (a rootless
# build: a user namespace with the user's subordinate IDs), side by side in one run, as a table of
# wall times and the ratio. Each build starts with an empty image cache and no obj/bin, so both run
# mmdebstrap. Needs root (to make the user, removed afterwards) and the Debian mirror.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
bench_setup

work=$(mktemp -d /var/tmp/dib-bench-rootless.XXXXXX)
chmod 0755 "$work"
user=dib-bench-$$
uid=
cleanup() {
  # The user's folder of build locks (named by its ID), then the user with its home and ranges.
  if [ -n "$uid" ]; then rm -rf "/run/lock/diskimagebuilder-$uid"; fi
  userdel -f -r "$user" >/dev/null 2>&1 || true
  if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
useradd --create-home --shell /bin/sh "$user"
home=$(getent passwd "$user" | cut -d: -f6)
uid=$(id -u "$user")
# useradd gives a range when /etc/subuid exists; otherwise one above every range given out so far.
if ! grep -q "^$user:" /etc/subuid 2>/dev/null; then
  first=$(awk -F: 'BEGIN { m = 100000 } $2 + $3 > m { m = $2 + $3 } END { print m }' /etc/subuid /etc/subgid 2>/dev/null || echo 100000)
  usermod --add-subuids "$first-$((first + 65535))" --add-subgids "$first-$((first + 65535))" "$user"
fi

# One copy of the sample per build, each with the locally packed SDK as its package source.
for who in root "$user"; do
  bench_sample "$work/$who"
done
chown -R "$user:" "$work/$user"

build() {
  local who=$1 dir=$work/$1 start end
  # The previous build's writes reach the disk now, not during this build's clock.
  sync
  start=$(date +%s.%N)
  if [ "$who" = root ]; then
    dotnet build "$dir/debian-vm/debian-vm.dibproj" -nologo -v:q -p:ImageCacheDirectory="$dir/cache" -bl:"$dir/build.binlog" > "$dir/build.out" 2>&1 \
      || { cat "$dir/build.out" >&2; exit 1; }
  else
    runuser -u "$who" -- env HOME="$home" DOTNET_CLI_HOME="$home" \
      dotnet build "$dir/debian-vm/debian-vm.dibproj" -nologo -v:q -p:ImageCacheDirectory="$dir/cache" -bl:"$dir/build.binlog" > "$dir/build.out" 2>&1 \
      || { cat "$dir/build.out" >&2; exit 1; }
  fi
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}

root=$(build root)
rootless=$(build "$user")

printf '\n| cold build of samples/debian-vm | wall time (s) | ratio to root |\n| --- | ---: | ---: |\n'
printf '| root | %.1f | 1.00 |\n' "$root"
printf '| rootless (user namespace) | %.1f | %.2f |\n' "$rootless" "$(awk -v a="$rootless" -v b="$root" 'BEGIN { print a / b }')"
