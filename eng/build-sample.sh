#!/usr/bin/env bash
# The README's first command: host tools, the SDK package, then `dotnet build` of a sample.
# Usage: eng/build-sample.sh [SAMPLE] [dotnet build options...]   (no SAMPLE: every sample)
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -gt 0 ]; then samples=("$1"); shift; else samples=(debian-minimal debian-vm web-vm); fi
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1
eng/host-tools.sh
eng/pack.sh
mkdir -p artifacts/logs
for sample in "${samples[@]}"; do
  dotnet build "samples/$sample" -bl:"artifacts/logs/$sample.binlog" "$@"
done
