#!/usr/bin/env bash
# Benchmark (issue 20): what writing each phase's changes in RAM (tmpfs) gives, against writing them
# on disk (DIB_NO_TMPFS=1, which also assembles the raw disk on disk), side by side in one run.
# Daily rebuilds of samples/debian-vm (phase snapshots gone; the base tree and the package cache
# kept, filled by one cold build first), alternating, BENCH_ROUNDS rounds (default 3): medians of
# the wall time, root.d and install.d, and the ratios. Needs root and the Debian mirror.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
rounds=${BENCH_ROUNDS:-3}
bench_setup

work=$(mktemp -d /var/tmp/dib-bench-tmpfs.XXXXXX)
trap '[ "${BENCH_KEEP:-}" = 1 ] && echo "bench: logs kept in $work" || rm -rf "$work"' EXIT
export NUGET_PACKAGES=$work/nuget-packages
bench_sample "$work"
project=$work/debian-vm/debian-vm.dibproj
cache=$work/cache

# $1: log name, $2: DIB_NO_TMPFS. Prints "wall root.d install.d" in seconds.
build() {
  local start end
  rm -rf "$cache/phases" "$work/debian-vm/bin" "$work/debian-vm/obj"
  # The previous build's writes reach the disk now, not during this build's clock.
  sync
  start=$(date +%s.%N)
  DIB_NO_TMPFS=$2 dotnet build "$project" -nologo -v:n -p:ImageCacheDirectory="$cache" > "$work/$1.log" 2>&1 \
    || { cat "$work/$1.log" >&2; exit 1; }
  end=$(date +%s.%N)
  printf '%s %s %s\n' "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')" \
    "$(grep -o 'root\.d took [0-9.]*' "$work/$1.log" | awk '{ print $3 }')" \
    "$(grep -o ' install\.d took [0-9.]*' "$work/$1.log" | awk '{ print $3 }' | sort -n | tail -n 1)"
}

build fill 0 > /dev/null
declare -A wall rootd installd
for round in $(seq 1 "$rounds"); do
  # Alternating: on disk first in odd rounds, in RAM first in even ones.
  order=(1 0)
  [ $((round % 2)) = 1 ] || order=(0 1)
  for no in "${order[@]}"; do
    read -r w r i < <(build "daily$round-$no" "$no")
    wall[$no]="${wall[$no]:-} $w" rootd[$no]="${rootd[$no]:-} $r" installd[$no]="${installd[$no]:-} $i"
    echo "bench: round $round, DIB_NO_TMPFS=$no: $w s (root.d $r s, install.d $i s)" >&2
  done
done

# shellcheck disable=SC2086 # the lists are words on purpose
{ w1=$(median ${wall[1]}); r1=$(median ${rootd[1]}); i1=$(median ${installd[1]})
  w0=$(median ${wall[0]}); r0=$(median ${rootd[0]}); i0=$(median ${installd[0]}); }
printf '\n%s rounds, alternating; medians (each round'"'"'s figures in brackets)\n\n' "$rounds"
printf '| daily rebuild of samples/debian-vm | wall time (s) | root.d (s) | install.d (s) | wall ratio |\n| --- | ---: | ---: | ---: | ---: |\n'
printf '| phases on disk (DIB_NO_TMPFS=1) [%s] | %s | %s | %s | 1.000 |\n' "${wall[1]# }" "$w1" "$r1" "$i1"
printf '| phases in RAM (default) [%s] | %s | %s | %s | %s |\n' "${wall[0]# }" "$w0" "$r0" "$i0" "$(ratio "$w0" "$w1")"
