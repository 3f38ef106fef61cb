#!/usr/bin/env bash
# The disk stage of a rebuild, two engines side by side in one run (issue 13 moved the disk-usage
# record, which lets mke2fs start while du measures the tree, from DiskImage to LayoutDisk).
# Builds debian-minimal + vm (+ linux-image-amd64) once per engine, each with its own cache seeded
# from the same cached base tree, then rebuilds each twice, alternating, after changing one
# finalise.d script (the phase cache restores the rest, so what is left is finalise.d, cleanup.d
# and the disk). Prints the warm rebuilds' wall times, the engine's disk lines and the ratio.
# Usage: bench/disk-usage.sh OLD_REPO [NEW_REPO]   (checkouts with their solution built; NEW_REPO
# defaults to this repository). Needs root and a cached debian-minimal base tree.
set -euo pipefail
repo=$(cd "${2:-$(dirname "$0")/..}" && pwd)
old=$(cd "${1:?usage: bench/disk-usage.sh OLD_REPO}" && pwd)
user_cache=${DIB_IMAGE_CACHE:-$HOME/.cache/image-create}
ls "$user_cache"/debian-minimal/*.tar > /dev/null 2>&1 || { echo "no cached debian-minimal base tree in $user_cache" >&2; exit 1; }
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1

dir=$(mktemp -d /var/tmp/dib-disk-usage-bench.XXXXXX)
if [ "${BENCH_KEEP:-}" = 1 ]; then echo "bench: logs kept in $dir"; else trap 'rm -rf "$dir"' EXIT; fi
for engine in old new; do
  src=$repo
  [ "$engine" = old ] && src=$old
  tasks=$src/artifacts/bin/DiskImageBuilder.Tasks/debug/DiskImageBuilder.Tasks.dll
  [ -f "$tasks" ] || { echo "build the solution in $src first: $tasks is missing" >&2; exit 1; }
  mkdir -p "$dir/$engine/cache" "$dir/$engine/elements/bench-touch/finalise.d"
  cp -a "$user_cache/debian-minimal" "$dir/$engine/cache/"
  cat > "$dir/$engine/image.dibproj" <<EOF
<Project>
  <PropertyGroup>
    <DiskImageBuilderTasksAssembly>$tasks</DiskImageBuilderTasksAssembly>
    <DiskImageBuilderElementsDirectory>$src/elements/</DiskImageBuilderElementsDirectory>
  </PropertyGroup>
  <Import Project="$src/sdk/Sdk/Sdk.props" />
  <PropertyGroup>
    <ImageFormat>raw</ImageFormat>
    <ImageCacheDirectory>$dir/$engine/cache</ImageCacheDirectory>
    <Offline>true</Offline>
  </PropertyGroup>
  <ItemGroup><Element Include="debian-minimal" /><Element Include="vm" /><Element Include="bench-touch" /><Package Include="linux-image-amd64" /></ItemGroup>
  <Import Project="$src/sdk/Sdk/Sdk.targets" />
</Project>
EOF
done

build() { # ENGINE RUN
  local script=$dir/$1/elements/bench-touch/finalise.d/50-bench-touch start
  printf '#!/bin/sh\necho %s > /etc/bench-touch\n' "$2" > "$script"
  chmod +x "$script"
  sync
  start=$(date +%s.%N)
  (cd "$dir/$1" && dotnet build image.dibproj -nr:false -tl:off -v:n) > "$dir/$1-$2.log" 2>&1 || { tail -30 "$dir/$1-$2.log" >&2; exit 1; }
  echo "$(date +%s.%N) - $start" | bc
}

for engine in old new; do echo "cold $engine: $(build "$engine" cold) s"; done
declare -A total=([old]=0 [new]=0)
for run in 1 2; do
  for engine in old new; do
    t=$(build "$engine" "warm$run")
    total[$engine]=$(echo "${total[$engine]} + $t" | bc)
    echo "warm$run $engine: $t s"
    grep -hoE "DiskImageBuilder: (root filesystem made in|disk [0-9]+ MiB from|the tree's size changed)[^\"]*" "$dir/$engine-warm$run.log" | sed 's/^/    /' | sort -u
  done
done
printf 'warm rebuilds: old %.1f s, new %.1f s, new/old %.2f\n' "${total[old]}" "${total[new]}" "$(echo "${total[new]} / ${total[old]}" | bc -l)"
