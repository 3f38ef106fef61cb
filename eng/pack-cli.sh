#!/usr/bin/env bash
# Packs the four CLI tool packages (disk-image-create, element-info, ramdisk-image-create, disk-image-get-kernel) into artifacts/packages.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet pack src/DiskImageBuilder.Cli/DiskImageBuilder.Cli.csproj -c Release -v:q -nologo
dotnet pack src/DiskImageBuilder.Cli.ElementInfo/DiskImageBuilder.Cli.ElementInfo.csproj -c Release -v:q -nologo
dotnet pack src/DiskImageBuilder.Cli.Ramdisk/DiskImageBuilder.Cli.Ramdisk.csproj -c Release -v:q -nologo
dotnet pack src/DiskImageBuilder.Cli.GetKernel/DiskImageBuilder.Cli.GetKernel.csproj -c Release -v:q -nologo
