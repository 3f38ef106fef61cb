#!/usr/bin/env bash
# Reproducible images (issue 15): builds the same debian image twice with SOURCE_DATE_EPOCH, in
# two folders with two image caches seeded from the same cached base tree (so both see the same
# package snapshot; no phase snapshots reused), and prints for every output whether the sha256
# sums match, how many outputs match (ratio), and for each one that differs, what diffoscope (or
# cmp, when diffoscope is missing) says about the first differences.
# Needs a built solution and a cached debian-minimal base tree (any earlier debian build).
# Usage: bench/reproducible.sh [ELEMENTS...]   (default: debian-minimal vm, with the package
# linux-image-amd64; DIB_BENCH_PACKAGES overrides the packages)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tasks=$repo/artifacts/bin/DiskImageBuilder.Tasks/debug/DiskImageBuilder.Tasks.dll
[ -f "$tasks" ] || { echo "build the solution first: $tasks is missing" >&2; exit 1; }
user_cache=${DIB_IMAGE_CACHE:-$HOME/.cache/image-create}
ls "$user_cache"/debian-minimal/*.tar > /dev/null 2>&1 || { echo "no cached debian-minimal base tree in $user_cache" >&2; exit 1; }
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1
SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct)}
export SOURCE_DATE_EPOCH
elements=(debian-minimal vm)
[ $# -eq 0 ] || elements=("$@")
formats="tar;raw;qcow2;docker"

dir=$(mktemp -d /var/tmp/dib-reproducible-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
items=""
for e in "${elements[@]}"; do items+="<Element Include=\"$e\" />"; done
for p in ${DIB_BENCH_PACKAGES-linux-image-amd64}; do items+="<Package Include=\"$p\" />"; done
for n in 1 2; do
  mkdir -p "$dir/build$n/cache"
  cp -a "$user_cache/debian-minimal" "$dir/build$n/cache/"
  cat > "$dir/build$n/image.dibproj" <<EOF
<Project>
  <PropertyGroup>
    <DiskImageBuilderTasksAssembly>$tasks</DiskImageBuilderTasksAssembly>
    <DiskImageBuilderElementsDirectory>$repo/elements/</DiskImageBuilderElementsDirectory>
  </PropertyGroup>
  <Import Project="$repo/sdk/Sdk/Sdk.props" />
  <PropertyGroup>
    <ImageFormat>$formats</ImageFormat>
    <ImageCacheDirectory>$dir/build$n/cache</ImageCacheDirectory>
    <DisablePhaseCache>true</DisablePhaseCache>
    <Offline>true</Offline>
  </PropertyGroup>
  <ItemGroup>$items</ItemGroup>
  <Import Project="$repo/sdk/Sdk/Sdk.targets" />
</Project>
EOF
  start=$(date +%s.%N)
  (cd "$dir/build$n" && dotnet build image.dibproj -nr:false -tl:off -v:n) > "$dir/build$n.log" 2>&1 || { tail -30 "$dir/build$n.log"; exit 1; }
  echo "build $n: $(echo "$(date +%s.%N) - $start" | bc) s"
  sleep 2 # the second build runs at another time
done

same=0 total=0
for f in "$dir"/build1/bin/Debug/image.*; do
  name=$(basename "$f")
  [ -f "$f" ] || continue
  total=$((total + 1))
  a=$(sha256sum < "$f" | cut -d' ' -f1)
  b=$(sha256sum < "$dir/build2/bin/Debug/$name" | cut -d' ' -f1)
  if [ "$a" = "$b" ]; then
    same=$((same + 1)); echo "same     $name $a"
  else
    echo "DIFFERS  $name $a $b"
    if command -v diffoscope > /dev/null; then
      diffoscope --text - "$f" "$dir/build2/bin/Debug/$name" 2>/dev/null | head -40 || true
    elif [ "$name" = image.tar ]; then
      # Which members differ: their listings (times, sizes) and, for same-size files, their contents.
      diff <(tar --full-time -tvf "$f") <(tar --full-time -tvf "$dir/build2/bin/Debug/$name") | head -20 || true
      mkdir -p "$dir/x1" "$dir/x2"
      tar -xf "$f" -C "$dir/x1" && tar -xf "$dir/build2/bin/Debug/$name" -C "$dir/x2"
      diff -rq --no-dereference "$dir/x1" "$dir/x2" | head -20 || true
    else
      cmp -l "$f" "$dir/build2/bin/Debug/$name" 2>/dev/null | head -5 || true
    fi
  fi
done
echo "identical outputs: $same/$total (ratio $(echo "scale=2; $same / $total" | bc))"
