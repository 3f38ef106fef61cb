#!/usr/bin/env bash
# The README's second command: host tools, build, every test; ends with "N passed, N failed".
# Extra arguments go to dotnet test (e.g. --filter "FullyQualifiedName~BuildTests").
set -euo pipefail
cd "$(dirname "$0")/.."
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1
eng/host-tools.sh
mkdir -p artifacts/logs artifacts/test-results
rm -f artifacts/test-results/*.trx
dotnet build DiskImageBuilder.sln -bl:artifacts/logs/build.binlog -v:q -nologo
status=0
dotnet test tests/DiskImageBuilder.Tests --no-build --results-directory artifacts/test-results \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" "$@" || status=$?
# The CI reads only a plain closing line; dotnet test's own summary is not one it knows.
trx=artifacts/test-results/tests.trx
counter() { grep -o "<Counters [^>]*" "$trx" 2>/dev/null | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]*" || echo 0; }
if [ ! -f "$trx" ]; then
  echo "no test results were written"
  echo "0 passed, 1 failed"
  exit 1
fi
passed=$(counter passed)
failed=$(( $(counter failed) + $(counter error) + $(counter timeout) + $(counter aborted) ))
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then status=1; fi
exit $status
