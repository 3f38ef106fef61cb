#!/usr/bin/env bash
# Puts disk-image-create and element-info on PATH as global .NET tools, from this checkout.
# A .NET tool package carries one command, so there are two packages; this installs (or updates) both.
set -euo pipefail
cd "$(dirname "$0")/.."
eng/pack-cli.sh
for tool in DiskImageBuilder.Cli DiskImageBuilder.Cli.ElementInfo; do
  dotnet tool uninstall --global "$tool" >/dev/null 2>&1 || true
  dotnet tool install --global --add-source artifacts/packages "$tool" --prerelease
done
case ":$PATH:" in
  *":$HOME/.dotnet/tools:"*) ;;
  *) echo "Add the tools folder to PATH: export PATH=\"\$PATH:$HOME/.dotnet/tools\"" ;;
esac
