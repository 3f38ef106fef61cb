#!/usr/bin/env bash
# Puts disk-image-create, ramdisk-image-create, disk-image-get-kernel and element-info on PATH as global .NET tools, from this checkout.
# A .NET tool package carries one command, so there are four packages; this installs (or updates) them all.
# Usage: eng/install-cli.sh [--tool-path DIR]   (default: global, ~/.dotnet/tools)
set -euo pipefail
cd "$(dirname "$0")/.."
where=(--global)
if [ "${1:-}" = --tool-path ] && [ -n "${2:-}" ]; then where=(--tool-path "$2"); fi
eng/pack-cli.sh
# The repository's nuget.config maps sources per package, which --add-source refuses: give the
# install a config of its own with the local packages and the NuGet source.
config=$(mktemp -d)
trap 'rm -rf "$config"' EXIT
cat > "$config/nuget.config" <<XML
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$PWD/artifacts/packages" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
XML
for tool in DiskImageBuilder.Cli DiskImageBuilder.Cli.ElementInfo DiskImageBuilder.Cli.Ramdisk DiskImageBuilder.Cli.GetKernel; do
  dotnet tool uninstall "${where[@]}" "$tool" >/dev/null 2>&1 || true
  (cd "$config" && dotnet tool install "${where[@]}" --configfile "$config/nuget.config" "$tool" --prerelease)
done
[ "${where[0]}" = --global ] || exit 0
case ":$PATH:" in
  *":$HOME/.dotnet/tools:"*) ;;
  *) echo "Add the tools folder to PATH: export PATH=\"\$PATH:$HOME/.dotnet/tools\"" ;;
esac
