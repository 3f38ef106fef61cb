#!/usr/bin/env bash
# Fault injection, as a table: a small offline image (the busybox-tree test element) is built, then
# built again while a fault is injected at one stage, and the running build is sent a signal (to the
# dotnet PID or to its process group) or killed. Stages: hook (an install.d hook that hangs, with a
# PID 1 that ignores SIGTERM), save (the install.d phase snapshot being saved: the hook wrote 1.5 GiB
# and ended, the layer is not committed yet), disk (the qcow2 being written: its .partial file exists).
# One row per case: the exit code, the last DIB code printed, and what was left behind (processes of
# the build still running, mounts, loop devices, the work directory, partial outputs, a changed
# previous image) and whether the next build succeeds.
# Needs a built solution (dotnet build DiskImageBuilder.sln). Usage: eng/fault-table.sh [CASE...]
# with CASE like TERM:pid, INT:group, KILL:pid, TERM:group:save, TERM:pid:disk (default: all of them).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
tasks=$repo/artifacts/bin/DiskImageBuilder.Tasks/debug/DiskImageBuilder.Tasks.dll
[ -f "$tasks" ] || { echo "build the solution first: $tasks is missing" >&2; exit 1; }
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(TERM:pid TERM:group INT:pid INT:group HUP:pid HUP:group KILL:pid
  TERM:pid:save TERM:group:save TERM:pid:disk TERM:group:disk)

dir=$(mktemp -d /tmp/dib-faults-XXXXXX)
trap 'rm -rf "$dir"' EXIT
# One project per stage: $1 stage, $2 format, $3 extra element, $4 the install.d hook's body.
project() {
  local d=$dir/$1
  mkdir -p "$d/elements/fault/install.d"
  cat > "$d/image.dibproj" <<EOF
<Project>
  <PropertyGroup>
    <DiskImageBuilderTasksAssembly>$tasks</DiskImageBuilderTasksAssembly>
    <DiskImageBuilderElementsDirectory>$repo/elements/</DiskImageBuilderElementsDirectory>
  </PropertyGroup>
  <Import Project="$repo/sdk/Sdk/Sdk.props" />
  <PropertyGroup>
    <ElementsPath>$repo/tests/elements</ElementsPath>
    <SkipBaseElement>true</SkipBaseElement>
    <ImageFormat>$2</ImageFormat>
    <ImageCacheDirectory>$d/cache</ImageCacheDirectory>
  </PropertyGroup>
  <ItemGroup>
    <Element Include="busybox-tree" />
    $3
    <Element Include="fault" />
  </ItemGroup>
  <Import Project="$repo/sdk/Sdk/Sdk.targets" />
</Project>
EOF
  printf '%s\n' '#!/bin/sh' "$4" > "$d/elements/fault/install.d/50-hang"
  chmod +x "$d/elements/fault/install.d/50-hang"
}
# Inside the image (mounts, own namespaces), a background child and, with exec, a PID 1 that ignores SIGTERM.
# shellcheck disable=SC2016
project hook tar '' 'if [ -n "${DIB_FAULT_HANG:-}" ]; then sleep 7991 & exec sleep 7992; fi'
# shellcheck disable=SC2016
project save tar '' 'if [ -n "${DIB_FAULT_HANG:-}" ]; then dd if=/dev/zero of=/fault-big bs=1M count=1536 2>/dev/null; fi; echo > /fault-ready'
# Random data compresses slowly: the qcow2 takes seconds to write.
# shellcheck disable=SC2016
project disk qcow2 '<Element Include="host-grub" />' 'if [ -n "${DIB_FAULT_HANG:-}" ]; then dd if=/dev/urandom of=/fault-big bs=1M count=400 2>/dev/null; fi'
build() { (cd "$dir/$1" && dotnet build image.dibproj -nr:false -tl:off -v:m); }
for stage in hook save disk; do
  build $stage > "$dir/first.log" 2>&1 || { cat "$dir/first.log"; exit 1; }
done

# Whether the stage to signal in has begun ($1 stage).
ready() {
  local d=$dir/$1
  case $1 in
    hook) pgrep -f "sleep 7992" > /dev/null ;;
    save) [ -n "$(find "$d/cache/phases/staging" -name fault-ready 2>/dev/null)" ] \
            && ! pgrep -f "install.d/50-hang" > /dev/null \
            && [ -z "$(find "$d/cache/phases/layers" -name fault-big -newer "$dir/start" 2>/dev/null)" ] ;;
    disk) [ -s "$d/bin/Debug/image.qcow2.partial" ] ;;
  esac
}

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

printf '%-16s %5s  %-8s %5s %6s %5s %5s %7s %9s %5s\n' case exit code procs mounts loops work partial prev-img next
for c in "${cases[@]}"; do
  IFS=: read -r sig target stage <<< "$c"
  stage=${stage:-hook}
  d=$dir/$stage
  out=$(find "$d/bin/Debug" -maxdepth 1 -name 'image.*' ! -name '*.partial' | head -1)
  before=$(sha256sum "$out")
  touch "$dir/start"
  # A value of its own each run: a snapshot an earlier case saved never stands in for this run's hook.
  (cd "$d" && DIB_FAULT_HANG="$c-$(date +%s%N)" exec setsid dotnet build image.dibproj -nr:false -tl:off -v:m > "$dir/run.log" 2>&1) &
  launcher=$!
  pid=""
  for _ in $(seq 3000); do
    pid=$(pgrep -f "dotnet build image.dibproj -nr:false" | head -1 || true)
    [ -n "$pid" ] && ready "$stage" && break
    pid=""
    sleep 0.05
  done
  if [ -z "$pid" ]; then
    printf '%-16s the %s stage was not reached\n' "$c" "$stage"
    wait "$launcher" || true
    continue
  fi
  tree=$(descendants "$pid")
  if [ "$target" = group ]; then kill -"$sig" -- "-$pid"; else kill -"$sig" "$pid"; fi
  set +e; wait "$launcher"; code_exit=$?; set -e
  sleep 2
  left=$(alive <<< "$tree" | wc -l)
  alive <<< "$tree" | xargs -r kill -9 2>/dev/null || true
  mounts=$(cat /proc/[0-9]*/mountinfo 2>/dev/null | awk '{ print $5 }' | grep -c "^$dir" || true)
  loops=$(losetup -a | grep -c "$dir" || true)
  work=$([ -d "$d/obj/Debug/dib/work" ] && echo yes || echo no)
  partial=$(find "$d/bin" -name '*partial*' | wc -l)
  prev=$([ "$(sha256sum "$out")" = "$before" ] && echo same || echo CHANGED)
  code=$(grep -o 'DIB[0-9]\{4\}' "$dir/run.log" | tail -1 || true)
  next=$(build "$stage" > "$dir/next.log" 2>&1 && echo ok || echo FAIL)
  printf '%-16s %5s  %-8s %5s %6s %5s %5s %7s %9s %5s\n' "$c" "$code_exit" "${code:--}" "$left" "$mounts" "$loops" "$work" "$partial" "$prev" "$next"
done
