#!/usr/bin/env bash
# The README's first command: host tools, the SDK package, then `dotnet build` of a sample.
# Usage: eng/build-sample.sh [SAMPLE] [dotnet build options...]   (default sample: debian-minimal)
set -euo pipefail
cd "$(dirname "$0")/.."
sample=${1:-debian-minimal}
shift || true
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1
eng/host-tools.sh
eng/pack.sh
mkdir -p artifacts/logs
dotnet build "samples/$sample" -bl:"artifacts/logs/$sample.binlog" "$@"
