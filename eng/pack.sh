#!/usr/bin/env bash
# Packs DiskImageBuilder.Sdk into artifacts/packages, where nuget.config sends DiskImageBuilder.*,
# and drops the cached copy: the SDK resolver never refreshes a version it already has.
# This is the repository's own loop (samples, global.json): it packs the fixed version 0.1.0-dev that
# global.json pins. `dotnet pack sdk/` and `dotnet pack templates/` give the version from git (MinVer).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet pack sdk/DiskImageBuilder.Sdk.csproj -c Release -v:q -nologo -p:MinVerVersionOverride=0.1.0-dev
dotnet pack templates/DiskImageBuilder.Templates.csproj -c Release -v:q -nologo -p:MinVerVersionOverride=0.1.0-dev
rm -rf "${NUGET_PACKAGES:-$HOME/.nuget/packages}/diskimagebuilder.sdk"
