#!/usr/bin/env bash
# Packs DiskImageBuilder.Sdk into artifacts/packages, where nuget.config sends DiskImageBuilder.*,
# and drops the cached copy: the SDK resolver never refreshes a version it already has.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet pack sdk/DiskImageBuilder.Sdk.csproj -c Release -v:q -nologo
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/diskimagebuilder.sdk"
