#!/usr/bin/env bash
# Packs DeformEngine.Core, DeformEngine.Ops and DeformEngine.Gpu into a temporary folder, then restores, builds and
# runs PackageConsumer against those packages (never the projects): a package that misses a file, a dependency
# or a public member, or whose code is broken, fails here. Needs the .NET 10 SDK and the repository's packages
# already restored (the consumer's dependencies, System.Numerics.Tensors and ILGPU, come from that cache).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# A version that no earlier run used, so that no NuGet cache can hand back an older build of these packages.
version="0.1.0-ci.$(date -u +%Y%m%d%H%M%S).$$"
cache="$(dotnet nuget locals global-packages --list | sed 's/^global-packages: *//')"

echo "PackageConsumer: packing DeformEngine $version into $work/feed"
dotnet build "$root/src/Gpu/DeformEngine.Gpu.csproj" -c Release -v quiet   # Core and Ops with it; a no-op when built
for library in Core Ops Gpu; do
  dotnet pack "$root/src/$library/DeformEngine.$library.csproj" -c Release --no-build -o "$work/feed" \
    -p:Version="$version" -v quiet
done

# The consumer is built outside the repository, as a user's project: no Directory.Build.* of ours applies. Its
# packages are extracted into a folder of its own; the user's cache serves the dependencies as a fallback folder.
mkdir "$work/consumer"
cp "$here/PackageConsumer.csproj" "$here/Program.cs" "$work/consumer/"
cat > "$work/consumer/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="deformengine-local" value="$work/feed" />
  </packageSources>
  <fallbackPackageFolders>
    <add key="user-cache" value="$cache" />
  </fallbackPackageFolders>
</configuration>
CONFIG
export NUGET_PACKAGES="$work/packages"
dotnet build "$work/consumer/PackageConsumer.csproj" -c Release -v quiet -p:DeformEngineVersion="$version" \
  -p:ImportDirectoryBuildProps=false -p:ImportDirectoryBuildTargets=false
dotnet "$work/consumer/bin/Release/net10.0/PackageConsumer.dll"
