#!/usr/bin/env bash
# Cost of checking phase snapshots by content (issue 16): builds a debian-minimal tree image once
# (offline, from the base tree in the user's image cache), rebuilds it with every phase restored
# from its snapshots, and prints what the restore cost: the layers' size, the restore time (the
# file-list check plus the content hash of every layer, in parallel), the whole rebuild, and the
# ratio of the content hash to the file-list check it was added to (measured with the same tools on
# the same layers: find -printf, and sha256sum over the files on every core).
# Needs a built solution and a cached debian-minimal base tree (any earlier debian build).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tasks=$repo/artifacts/bin/DiskImageBuilder.Tasks/debug/DiskImageBuilder.Tasks.dll
[ -f "$tasks" ] || { echo "build the solution first: $tasks is missing" >&2; exit 1; }
user_cache=${DIB_IMAGE_CACHE:-$HOME/.cache/image-create}
ls "$user_cache"/debian-minimal/*.tar > /dev/null 2>&1 || { echo "no cached debian-minimal base tree in $user_cache" >&2; exit 1; }
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1

dir=$(mktemp -d /var/tmp/dib-snapshot-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/cache"
cp -a "$user_cache/debian-minimal" "$dir/cache/"
cat > "$dir/image.dibproj" <<EOF
<Project>
  <PropertyGroup>
    <DiskImageBuilderTasksAssembly>$tasks</DiskImageBuilderTasksAssembly>
    <DiskImageBuilderElementsDirectory>$repo/elements/</DiskImageBuilderElementsDirectory>
  </PropertyGroup>
  <Import Project="$repo/sdk/Sdk/Sdk.props" />
  <PropertyGroup>
    <ImageFormat>tar</ImageFormat>
    <ImageCacheDirectory>$dir/cache</ImageCacheDirectory>
    <Offline>true</Offline>
  </PropertyGroup>
  <ItemGroup><Element Include="debian-minimal" /></ItemGroup>
  <Import Project="$repo/sdk/Sdk/Sdk.targets" />
</Project>
EOF
build() { (cd "$dir" && dotnet build image.dibproj -nr:false -tl:off -v:n "$@"); }
build > "$dir/cold.log" 2>&1 || { tail -30 "$dir/cold.log"; exit 1; }
sync
build -t:Rebuild > "$dir/warm.log" 2>&1 || { tail -30 "$dir/warm.log"; exit 1; }
restore=$(grep -o 'from phase snapshots ([0-9.]* s)' "$dir/warm.log" | grep -o '[0-9.]*' | head -1)
total=$(grep -o 'built in [0-9.]* s' "$dir/warm.log" | grep -o '[0-9.]*' | head -1)
layers=$dir/cache/phases/layers
mib=$(( $(cat "$layers"/*/meta.json | grep -o '"Bytes": [0-9]*' | awk '{ s += $2 } END { print s }') >> 20 ))

# The two checks on their own, page cache warm (as after a build), same layers.
t() { local s e; s=$(date +%s.%N); "$@" > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc; }
list=$(t sh -c "for l in '$layers'/*/tree; do find \"\$l\" -mindepth 1 -printf '%P\t%y\t%m\t%U\t%G\t%s\t%l\n' | LC_ALL=C sort; done")
content=$(t sh -c "find '$layers' -path '*/tree/*' -type f -print0 | xargs -0 -P $(nproc) -n 256 sha256sum")

printf "load average while measured: %s\n" "$(cut -d" " -f1-3 /proc/loadavg)"
printf '%-44s %10s\n' measure value
printf '%-44s %10s\n' "layer content (MiB)" "$mib"
printf '%-44s %10s\n' "restore, all phases, checked (s)" "$restore"
printf '%-44s %10s\n' "whole rebuild (s)" "$total"
printf '%-44s %10.2f\n' "restore / rebuild" "$(echo "$restore / $total" | bc -l)"
printf '%-44s %10.2f\n' "restore throughput (MiB/s)" "$(echo "$mib / $restore" | bc -l)"
printf '%-44s %10.2f\n' "file-list check alone (s)" "$list"
printf '%-44s %10.2f\n' "content hash alone, sha256sum x$(nproc) (s)" "$content"
printf '%-44s %10.2f\n' "content hash / file-list check" "$(echo "$content / $list" | bc -l)"
