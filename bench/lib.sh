# shellcheck shell=bash disable=SC2154
# Shared by the bench scripts (sourced; the sample functions need $repo): a copy of samples/debian-vm
# that restores the SDK just packed by eng/pack.sh, and the figures' arithmetic.

# bench_setup: MSBuild as a user's one-off build runs it (no node reuse, no server), the host tools
# installed and the SDK packed from this checkout.
bench_setup() {
  export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1
  "$repo/eng/host-tools.sh" > /dev/null
  "$repo/eng/pack.sh" > /dev/null
}

# bench_sample DIR: samples/debian-vm, global.json and a nuget.config with the local packages in DIR.
bench_sample() {
  mkdir -p "$1"
  cp -a "$repo/samples/debian-vm" "$1/"
  cp "$repo/global.json" "$1/"
  cat > "$1/nuget.config" <<XML
<configuration>
  <packageSources><clear /><add key="local" value="$repo/artifacts/packages" /><add key="nuget.org" value="https://api.nuget.org/v3/index.json" /></packageSources>
</configuration>
XML
}

# bench_touch_element DIR: one post-install.d script (elements/bench-touch) that a warm build
# changes, added to every project under DIR the MSBuild way; prints the script's path.
bench_touch_element() {
  local script=$1/debian-vm/elements/bench-touch/post-install.d/50-bench-touch
  mkdir -p "$(dirname "$script")"
  printf '#!/bin/sh\necho cold > /etc/bench-touch\n' > "$script"
  chmod +x "$script"
  cat > "$1/Directory.Build.targets" <<XML
<Project><ItemGroup><Element Include="bench-touch" /></ItemGroup></Project>
XML
  echo "$script"
}

# median N...: the middle one of the figures (the upper middle of an even count).
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# ratio A B: A / B to three decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }
