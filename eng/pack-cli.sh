#!/usr/bin/env bash
# Packs the two CLI tool packages (disk-image-create, element-info) into artifacts/packages.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet pack src/DiskImageBuilder.Cli/DiskImageBuilder.Cli.csproj -c Release -v:q -nologo
dotnet pack src/DiskImageBuilder.Cli.ElementInfo/DiskImageBuilder.Cli.ElementInfo.csproj -c Release -v:q -nologo
