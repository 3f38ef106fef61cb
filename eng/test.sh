#!/usr/bin/env bash
# The README's second command: host tools, build, every test; ends with "N passed, N failed".
#   eng/test.sh --fast   only the unit tier (in-process, seconds, no root, no apt)
#   eng/test.sh --tier Build|Heavy|Unit|Emulated   one tier (Emulated, arm64 on amd64, only so)
# Further arguments go to dotnet test (e.g. --filter "FullyQualifiedName~BuildTests").
set -euo pipefail
cd "$(dirname "$0")/.."
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1
tier=
case "${1:-}" in
  --fast) tier=Unit; shift ;;
  --tier) tier=$2; shift 2 ;;
esac
# The emulated tier (arm64 under qemu-user and TCG, half an hour) runs only when asked for.
filter="Tier!=Emulated"
if [ -n "$tier" ]; then
  filter="Tier=$tier"
fi
# dotnet test takes one --filter: a filter given here narrows the tier's.
rest=()
while [ $# -gt 0 ]; do
  if [ "$1" = --filter ] && [ $# -gt 1 ]; then filter="($filter)&($2)"; shift 2; else rest+=("$1"); shift; fi
done
if [ "$tier" != Unit ]; then
  eng/host-tools.sh
fi
mkdir -p artifacts/logs artifacts/test-results
rm -f artifacts/test-results/*.trx
dotnet build DiskImageBuilder.sln -bl:artifacts/logs/build.binlog -v:q -nologo
status=0
dotnet test tests/DiskImageBuilder.Tests --no-build --results-directory artifacts/test-results \
  --logger "trx;LogFileName=tests.trx" --logger "console;verbosity=normal" --filter "$filter" ${rest[@]+"${rest[@]}"} || status=$?
# The CI reads only a plain closing line; dotnet test's own summary is not one it knows.
trx=artifacts/test-results/tests.trx
counter() { grep -o "<Counters [^>]*" "$trx" 2>/dev/null | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]*" || echo 0; }
if [ ! -f "$trx" ]; then
  echo "no test results were written"
  echo "0 passed, 1 failed"
  exit 1
fi
# The CI shows only the end of the output: name each failed test and its message's first lines there.
if [ "$(counter failed)" != 0 ] && command -v python3 >/dev/null; then
  python3 - "$trx" <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for r in ET.parse(sys.argv[1]).getroot().iterfind(".//t:UnitTestResult", ns):
    if r.get("outcome") != "Failed":
        continue
    message = r.findtext(".//t:ErrorInfo/t:Message", "", ns).strip().splitlines()
    print("FAILED " + r.get("testName"))
    for line in message[:15]:
        print("    " + line)
PY
fi
passed=$(counter passed)
failed=$(( $(counter failed) + $(counter error) + $(counter timeout) + $(counter aborted) ))
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then status=1; fi
exit $status
