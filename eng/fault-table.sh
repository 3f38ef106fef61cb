#!/usr/bin/env bash
# Fault injection, as a table: a small offline image (the busybox-tree test element) is built, then
# built again with a hook that hangs, and the running build is sent a signal (to the dotnet PID or to
# its process group) or killed. One row per case: the exit code, the last DIB code printed, and what
# was left behind (processes of the build still running, mounts, loop devices, the work directory,
# partial outputs, a changed previous image) and whether the next build succeeds.
# Needs a built solution (dotnet build DiskImageBuilder.sln). Usage: eng/fault-table.sh [CASE...]
# with CASE like TERM:pid, INT:group, KILL:pid (default: all of them).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tasks=$repo/artifacts/bin/DiskImageBuilder.Tasks/debug/DiskImageBuilder.Tasks.dll
[ -f "$tasks" ] || { echo "build the solution first: $tasks is missing" >&2; exit 1; }
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(TERM:pid TERM:group INT:pid INT:group HUP:pid HUP:group KILL:pid)

dir=$(mktemp -d /tmp/dib-faults-XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/elements/fault/install.d"
cat > "$dir/image.dibproj" <<EOF
<Project>
  <PropertyGroup>
    <DiskImageBuilderTasksAssembly>$tasks</DiskImageBuilderTasksAssembly>
    <DiskImageBuilderElementsDirectory>$repo/elements/</DiskImageBuilderElementsDirectory>
  </PropertyGroup>
  <Import Project="$repo/sdk/Sdk/Sdk.props" />
  <PropertyGroup>
    <ElementsPath>$repo/tests/elements</ElementsPath>
    <SkipBaseElement>true</SkipBaseElement>
    <ImageFormat>tar</ImageFormat>
    <ImageCacheDirectory>$dir/cache</ImageCacheDirectory>
  </PropertyGroup>
  <ItemGroup>
    <Element Include="busybox-tree" />
    <Element Include="fault" />
  </ItemGroup>
  <Import Project="$repo/sdk/Sdk/Sdk.targets" />
</Project>
EOF
# Inside the image (chroot, mounts), a background child and, with exec, a PID 1 that ignores SIGTERM.
printf '#!/bin/sh\nif [ -n "${DIB_FAULT_HANG:-}" ]; then sleep 7991 & exec sleep 7992; fi\n' > "$dir/elements/fault/install.d/50-hang"
chmod +x "$dir/elements/fault/install.d/50-hang"
build() { (cd "$dir" && dotnet build image.dibproj -nr:false -tl:off -v:m "$@"); }
build > "$dir/first.log" 2>&1 || { cat "$dir/first.log"; exit 1; }

descendants() { # PIDs (with start times) below $1
  local all; all=$(ps -eo pid=,ppid= )
  local queue=("$1") found=()
  while [ ${#queue[@]} -gt 0 ]; do
    local p=${queue[0]}; queue=("${queue[@]:1}")
    for c in $(awk -v p="$p" '$2 == p { print $1 }' <<< "$all"); do found+=("$c"); queue+=("$c"); done
  done
  for c in "${found[@]}"; do echo "$c $(awk '{ print $22 }' "/proc/$c/stat" 2>/dev/null)"; done
}
alive() { # "PID STARTTIME" lines still running (not zombies)
  while read -r pid start; do
    [ -n "$pid" ] || continue
    [ -r "/proc/$pid/stat" ] || continue
    read -r -a f < <(sed 's/.*) //' "/proc/$pid/stat")
    [ "${f[19]}" = "$start" ] && [ "${f[0]}" != Z ] && echo "$pid"
  done
}

printf '%-12s %5s  %-8s %5s %6s %5s %5s %7s %9s %5s\n' case exit code procs mounts loops work partial prev-img next
for c in "${cases[@]}"; do
  sig=${c%%:*} target=${c##*:}
  before=$(sha256sum "$dir/bin/Debug/image.tar")
  (cd "$dir" && DIB_FAULT_HANG=1 exec setsid dotnet build image.dibproj -nr:false -tl:off -v:m > "$dir/run.log" 2>&1) &
  launcher=$!
  pid=""
  for _ in $(seq 600); do
    pid=$(pgrep -f "dotnet build image.dibproj -nr:false" | head -1 || true)
    [ -n "$pid" ] && pgrep -f "sleep 7992" > /dev/null && break
    sleep 0.2
  done
  tree=$(descendants "$pid")
  if [ "$target" = group ]; then kill -"$sig" -- "-$pid"; else kill -"$sig" "$pid"; fi
  set +e; wait "$launcher"; code_exit=$?; set -e
  sleep 2
  left=$(alive <<< "$tree" | wc -l)
  alive <<< "$tree" | xargs -r kill -9 2>/dev/null || true
  mounts=$(cat /proc/[0-9]*/mountinfo 2>/dev/null | awk '{ print $5 }' | grep -c "^$dir" || true)
  loops=$(losetup -a | grep -c "$dir" || true)
  work=$([ -d "$dir/obj/Debug/dib/work" ] && echo yes || echo no)
  partial=$(find "$dir/bin" -name '*partial*' | wc -l)
  prev=$([ "$(sha256sum "$dir/bin/Debug/image.tar")" = "$before" ] && echo same || echo CHANGED)
  code=$(grep -o 'DIB[0-9]\{4\}' "$dir/run.log" | tail -1 || true)
  next=$(build > "$dir/next.log" 2>&1 && echo ok || echo FAIL)
  printf '%-12s %5s  %-8s %5s %6s %5s %5s %7s %9s %5s\n' "$c" "$code_exit" "${code:--}" "$left" "$mounts" "$loops" "$work" "$partial" "$prev" "$next"
done
