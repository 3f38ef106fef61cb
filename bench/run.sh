#!/usr/bin/env bash
# Benchmark (issue 4): builds samples/debian-vm three ways, side by side in one run, and prints
# the wall times and ratios as a table:
#   cold   empty image cache, no obj/bin
#   warm   after changing one post-install.d script (three times, median)
#   no-op  nothing changed (three times, median)
# Targets: warm <= 0.08 x cold, no-op <= 3 s. Needs root and the Debian mirror, like any build.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
bench_setup

work=$(mktemp -d /var/tmp/dib-bench.XXXXXX)
# BENCH_KEEP=1 keeps the folder: each build's log (with the engine's step timings) and binlog.
if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: logs kept in $work"; else trap 'rm -rf "$work"' EXIT; fi
bench_sample "$work"
# One post-install.d script to change between the cold and the warm build, the MSBuild way.
script=$(bench_touch_element "$work")

project=$work/debian-vm/debian-vm.dibproj
build() {
  local start end
  # The previous build's writes reach the disk now, not during this build's clock: each build is
  # charged for its own work only (the kernel would otherwise flush them at some later moment).
  sync
  start=$(date +%s.%N)
  dotnet build "$project" -nologo -v:q -p:ImageCacheDirectory="$work/cache" -bl:"$work/$1.binlog" \
    -fl "-flp:logfile=$work/$1.log;verbosity=normal;ShowTimestamp" > "$work/$1.out" 2>&1 \
    || { cat "$work/$1.out" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }'
}

cold=$(build cold)
# Warm and no-op three times each (a different script content each warm run); the median is
# what the table shows.
warms=() noops=()
for i in 1 2 3; do
  printf '#!/bin/sh\necho warm %s > /etc/bench-touch\n' "$i" > "$script"
  warms+=("$(build "warm$i")")
done
for i in 1 2 3; do
  noops+=("$(build "noop$i")")
done
warm=$(median "${warms[@]}")
noop=$(median "${noops[@]}")

printf '\n| build | wall time (s) | ratio to cold |\n| --- | ---: | ---: |\n'
printf '| cold | %.1f | 1.00 |\n' "$cold"
printf '| warm (one post-install.d script changed), median of %s | %.1f | %.3f |\n' "${warms[*]}" "$warm" "$(ratio "$warm" "$cold")"
printf '| no-op, median of %s | %.1f | %.3f |\n' "${noops[*]}" "$noop" "$(ratio "$noop" "$cold")"
printf '\ntargets: warm <= 0.08 x cold, no-op <= 3 s\n'
