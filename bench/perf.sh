#!/usr/bin/env bash
# Benchmark (issue 20): samples/debian-vm against the bare tools, side by side in one run,
# alternating, BENCH_ROUNDS rounds (default 3), medians and ratios printed as one table:
#   bare    one mmdebstrap with every package of the image, mke2fs -d, qemu-img convert (zstd qcow2)
#   cold    empty image cache, no obj/bin
#   daily   phase snapshots gone, package cache and base tree kept (a rebuild when anything early changed)
#   warm    one post-install.d script changed
#   no-op   nothing changed
# beside the floors of that work, timed in the same rounds: the bare tools from the cold build's
# cached packages (a daily rebuild's), the bare tools' disk step alone (a warm build's), and
# `dotnet build` of an empty project and of an up-to-date `dotnet new classlib` (a no-op's),
# and each cold and daily build's peak memory (the processes' own, anonymous memory: not the page
# cache, not tmpfs, where the disk is assembled) and peak disk use (growth of the used space of the
# work folder's filesystem, caches included), sampled ten times a second.
# The bare tools get the packages the cold build installed (read from the first cold build's image),
# so both make the same tree from the same mirror. Needs root and the Debian mirror, like any build.
# BENCH_KEEP=1 keeps every build's log (with the engine's phase timings) in the work folder; the
# no-op build, timed as a user runs it, writes only its console output there.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
. "$repo/bench/lib.sh"
rounds=${BENCH_ROUNDS:-3}
bench_setup

work=$(mktemp -d /var/tmp/dib-perf.XXXXXX)
if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: logs kept in $work"; fi
# A package folder of our own: the SDK just packed, never a copy another checkout packed.
export NUGET_PACKAGES=$work/nuget-packages
bench_sample "$work"
script=$(bench_touch_element "$work")
project=$work/debian-vm/debian-vm.dibproj
image=$work/debian-vm/bin/Debug/debian-vm.qcow2
# The floor of any `dotnet build` on this machine, for the no-op: a project whose Restore and Build
# targets do nothing (the dotnet CLI and MSBuild alone), and `dotnet new classlib` built once (the
# .NET SDK's own up-to-date check). In a folder of their own, out of reach of the sample's
# Directory.Build.targets.
floor=$work/dotnet-floor
mkdir -p "$floor/empty"
printf '<Project />\n' > "$floor/Directory.Build.props"
printf '<Project />\n' > "$floor/Directory.Build.targets"
printf '<Project>\n  <Target Name="Restore" />\n  <Target Name="Build" />\n</Project>\n' > "$floor/empty/empty.proj"
dotnet new classlib --output "$floor/classlib" > /dev/null
dotnet build "$floor/classlib" -nologo -v:q > /dev/null

seconds() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# timed COMMAND...: runs it (its output to a log beside the others) and prints its wall time.
timed() {
  local start
  start=$(date +%s.%N)
  "$@" > "$work/timed.out" 2>&1 || { cat "$work/timed.out" >&2; exit 1; }
  seconds "$start" "$(date +%s.%N)"
}

# A memory cgroup of the build's own (v1 here, v2 elsewhere), so its processes' memory can be read.
cgroup=
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  cgroup=/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/self/cgroup)/dib-bench-$$
elif [ -d /sys/fs/cgroup/memory ]; then
  cgroup=/sys/fs/cgroup/memory$(sed -n 's/^[0-9]*:memory://p' /proc/self/cgroup)/dib-bench-$$
fi
mkdir "$cgroup" 2>/dev/null || cgroup=
peaks() { [ -n "$cgroup" ] && rmdir "$cgroup" 2>/dev/null; true; }
trap 'peaks; [ "${BENCH_KEEP:-}" = 1 ] || rm -rf "$work"' EXIT

# $1: samples file. Appends "anonymous-bytes used-disk-bytes" ten times a second until killed.
sample() {
  while :; do
    # v1: rss (anonymous, this group and below: total_rss); v2: anon.
    printf '%s %s\n' "$(awk '$1 == "total_rss" || $1 == "anon" { print $2; exit }' "$cgroup/memory.stat" 2>/dev/null || echo 0)" \
      "$(df -B1 --output=used "$work" | tail -n 1)" >> "$1"
    sleep 0.1
  done
}

# $1: log name, $2: image cache folder, $3: "plain" for a build as a user runs it, without the binary
# and file logs and unmeasured (the no-op build: at about a second, writing them is a share of what
# it measures). Prints the wall time; others write $1.peak: "MiB-memory MiB-disk".
build() {
  local start sampler='' logs=()
  [ "${3:-}" = plain ] || logs=(-bl:"$work/$1.binlog" -fl "-flp:logfile=$work/$1.log;verbosity=normal;ShowTimestamp")
  # The previous build's writes reach the disk now, not during this build's clock.
  sync
  if [ "${3:-}" != plain ]; then
    : > "$work/$1.samples"
    sample "$work/$1.samples" > /dev/null 2>&1 &
    sampler=$!
  fi
  start=$(date +%s.%N)
  ( [ -z "$cgroup" ] || echo "$BASHPID" > "$cgroup/cgroup.procs"
    exec dotnet build "$project" -nologo -v:q -p:ImageCacheDirectory="$2" "${logs[@]}" ) > "$work/$1.out" 2>&1 \
    || { [ -z "$sampler" ] || kill "$sampler"; cat "$work/$1.out" >&2; exit 1; }
  seconds "$start" "$(date +%s.%N)"
  [ -n "$sampler" ] || return 0
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  awk 'NR == 1 { d0 = $2 } { if ($1 > m) m = $1; if ($2 - d0 > d) d = $2 - d0 }
       END { printf "%.0f %.0f\n", m / 1048576, d / 1048576 }' "$work/$1.samples" > "$work/$1.peak"
}

# The packages the image holds, as mmdebstrap --include takes them: from the SPDX document the
# build writes beside the image.
packages_of_image() {
  python3 -c 'import json, sys
doc = json.load(open(sys.argv[1]))
print(",".join(sorted(p["name"] for p in doc["packages"] if p["SPDXID"].startswith("SPDXRef-Package-deb-"))))' "${image%.qcow2}.spdx.json"
}

sources=()
while IFS= read -r uri; do sources+=("$uri"); done < <(
  for suite in bookworm bookworm-updates; do echo "deb http://deb.debian.org/debian $suite main"; done
  echo "deb http://deb.debian.org/debian-security bookworm-security main")

# bare [DEBS]: the bare tools' build; prints its wall time and writes the disk step's alone (du to
# size it, mke2fs -d and qemu-img convert) to $work/bare.disk. With DEBS, a folder of .deb files, mmdebstrap takes
# every package it needs from there (its documented cache hooks) and downloads none: the bare
# tools' own rebuild from cached packages, the floor of a daily rebuild.
bare() {
  local dir=$work/bare start tree size hooks=()
  [ -f "$work/packages.txt" ] || packages_of_image > "$work/packages.txt"
  rm -rf "$dir"
  mkdir -p "$dir"
  tree=$dir/tree
  if [ -n "${1:-}" ]; then
    # shellcheck disable=SC2016 # $1 is the hook's: mmdebstrap passes it the tree.
    hooks=(--skip=essential/unlink --setup-hook='mkdir -p "$1"/var/cache/apt/archives/'
      --setup-hook="sync-in $1 /var/cache/apt/archives/"
      --customize-hook="ls \"\$1\"/var/cache/apt/archives > $dir/archives.after"
      --customize-hook='rm -f "$1"/var/cache/apt/archives/*.deb')
  fi
  sync
  start=$(date +%s.%N)
  local packages
  packages=$(cat "$work/packages.txt")
  mmdebstrap --quiet --mode=root --format=directory --variant=minbase --architectures=amd64 \
    --include="$packages" "${hooks[@]}" bookworm "$tree" "${sources[@]}" > "$dir/mmdebstrap.log" 2>&1 \
    || { cat "$dir/mmdebstrap.log" >&2; exit 1; }
  # A package downloaded after all would make this no floor.
  if [ -n "${1:-}" ] && grep '\.deb$' "$dir/archives.after" | grep -vxFf <(ls "$1") >&2; then
    echo "bench: the bare tools downloaded these packages, missing from the cache" >&2
    exit 1
  fi
  local disk
  disk=$(date +%s.%N)
  # The filesystem a little larger than the tree, as an image builder must size it.
  size=$(du -sm "$tree" | awk '{ print int($1 * 1.25) + 256 }')
  # mke2fs says "Creating regular file" on stdout even with -q: only the time goes there.
  mke2fs -q -t ext4 -L cloudimg-rootfs -d "$tree" "$dir/fs.img" "${size}M" > /dev/null
  qemu-img convert -c -O qcow2 -o compression_type=zstd "$dir/fs.img" "$dir/out.qcow2"
  local end took
  end=$(date +%s.%N)
  took=$(seconds "$start" "$end")
  seconds "$disk" "$end" > "$work/bare.disk"
  rm -rf "$dir"
  echo "$took"
}


bares=() colds=() dailies=() warms=() noops=() bare_disks=() bare_cached=() floors=() classlibs=()
for round in $(seq 1 "$rounds"); do
  cache=$work/cache$round
  clean() { rm -rf "$work/debian-vm/bin" "$work/debian-vm/obj"; }
  # Alternating: the cold build first in odd rounds (the first one also tells the bare tools the
  # package list), the bare tools first in even rounds.
  clean
  printf '#!/bin/sh\necho cold > /etc/bench-touch\n' > "$script"
  if [ $((round % 2)) = 1 ]; then
    colds+=("$(build "cold$round" "$cache")")
    bares+=("$(bare)")
  else
    bares+=("$(bare)")
    colds+=("$(build "cold$round" "$cache")")
  fi
  bare_disks+=("$(cat "$work/bare.disk")")
  # The cold build's packages, for the bare tools' rebuild from cached packages.
  rm -rf "$work/debs"
  mkdir "$work/debs"
  find "$cache/apt" -path '*/.builds' -prune -o -name '*.deb' -exec cp -l {} "$work/debs/" \;
  # Daily: the snapshots are gone (evicted, or a root.d change), the package cache and base tree are not.
  rm -rf "$cache/phases"
  clean
  if [ $((round % 2)) = 1 ]; then
    dailies+=("$(build "daily$round" "$cache")")
    bare_cached+=("$(bare "$work/debs")")
  else
    bare_cached+=("$(bare "$work/debs")")
    dailies+=("$(build "daily$round" "$cache")")
  fi
  printf '#!/bin/sh\necho warm %s > /etc/bench-touch\n' "$round" > "$script"
  warms+=("$(build "warm$round" "$cache")")
  noops+=("$(build "noop$round" "$cache" plain)")
  floors+=("$(timed dotnet build "$floor/empty/empty.proj" -nologo -v:q)")
  classlibs+=("$(timed dotnet build "$floor/classlib" -nologo -v:q)")
  rm -rf "$cache"
  echo "bench: round $round: bare ${bares[-1]} s (disk ${bare_disks[-1]} s, from cached packages ${bare_cached[-1]} s), cold ${colds[-1]} s, daily ${dailies[-1]} s, warm ${warms[-1]} s, no-op ${noops[-1]} s (empty project ${floors[-1]} s, classlib ${classlibs[-1]} s)" >&2
done

b=$(median "${bares[@]}") c=$(median "${colds[@]}") d=$(median "${dailies[@]}") w=$(median "${warms[@]}") n=$(median "${noops[@]}")
printf '\n%s rounds, alternating; medians (each round'"'"'s figures in brackets)\n\n' "$rounds"
printf '| build | wall time (s) | ratio to bare tools | ratio to cold |\n| --- | ---: | ---: | ---: |\n'
bc=$(median "${bare_cached[@]}") bd=$(median "${bare_disks[@]}") f=$(median "${floors[@]}") cl=$(median "${classlibs[@]}")
printf '| bare tools (mmdebstrap + mke2fs -d + qemu-img) [%s] | %.1f | 1.000 | %s |\n' "${bares[*]}" "$b" "$(ratio "$b" "$c")"
printf '| bare tools from cached packages (no download) [%s] | %.1f | %s | %s |\n' "${bare_cached[*]}" "$bc" "$(ratio "$bc" "$b")" "$(ratio "$bc" "$c")"
printf '| bare tools'"'"' disk step alone (du + mke2fs -d + qemu-img) [%s] | %.1f | %s | %s |\n' "${bare_disks[*]}" "$bd" "$(ratio "$bd" "$b")" "$(ratio "$bd" "$c")"
printf '| cold (empty caches) [%s] | %.1f | %s | 1.000 |\n' "${colds[*]}" "$c" "$(ratio "$c" "$b")"
printf '| daily rebuild (snapshots gone, package cache warm) [%s] | %.1f | %s | %s |\n' "${dailies[*]}" "$d" "$(ratio "$d" "$b")" "$(ratio "$d" "$c")"
printf '| warm (one post-install.d script changed) [%s] | %.1f | %s | %s |\n' "${warms[*]}" "$w" "$(ratio "$w" "$b")" "$(ratio "$w" "$c")"
printf '| no-op [%s] | %.2f | %s | %s |\n' "${noops[*]}" "$n" "$(ratio "$n" "$b")" "$(ratio "$n" "$c")"
printf '| dotnet build, empty targets (the CLI and MSBuild alone) [%s] | %.2f | %s | %s |\n' "${floors[*]}" "$f" "$(ratio "$f" "$b")" "$(ratio "$f" "$c")"
printf '| dotnet build, dotnet new classlib, up to date [%s] | %.2f | %s | %s |\n' "${classlibs[*]}" "$cl" "$(ratio "$cl" "$b")" "$(ratio "$cl" "$c")"
# Each build against the same work done the plainest way: the bare tools, or the .NET SDK alone.
printf '\n| build | its floor | ratio to the floor |\n| --- | --- | ---: |\n'
printf '| daily rebuild | bare tools from cached packages | %s |\n' "$(ratio "$d" "$bc")"
printf '| warm | bare tools'"'"' disk step alone | %s |\n' "$(ratio "$w" "$bd")"
printf '| no-op | dotnet build, empty targets | %s |\n' "$(ratio "$n" "$f")"
printf '| no-op | dotnet build, classlib up to date | %s |\n' "$(ratio "$n" "$cl")"
# The largest of the rounds: a peak is a limit the machine must have, not a typical figure.
peak() { cat "$work/$1"*.peak | awk -v f="$2" '{ if ($f > m) m = $f } END { print m }'; }
if [ -n "$cgroup" ]; then
  printf '\n| build | peak memory (MiB, anonymous) | peak disk (MiB, work folder and caches) |\n| --- | ---: | ---: |\n'
  for kind in cold daily; do printf '| %s | %s | %s |\n' "$kind" "$(peak "$kind" 1)" "$(peak "$kind" 2)"; done
else
  echo "bench: no memory cgroup could be made here: peak memory not measured" >&2
fi
printf '\ntargets (issue 20): cold <= 1.0 x bare, daily <= 0.35 x cold, warm <= 0.05 x cold, no-op <= 1 s, peak memory < 1024 MiB\n'
# The engine's phase timings of each cold and daily build (BENCH_KEEP=1 keeps the full logs).
for log in "$work"/cold*.log "$work"/daily*.log; do
  printf '%s: %s\n' "$(basename "$log" .log)" "$(grep -o '[a-z.-]*\.d took [0-9.]* s' "$log" | sed 's/ took / /; s/ s$//' | paste -sd' ' -)"
done
