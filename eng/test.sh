#!/usr/bin/env bash
# The README's second command: host tools, build, every test; ends with "N passed, N failed".
#   eng/test.sh --fast   only the unit tier (in-process, seconds, no root, no apt)
#   eng/test.sh --tier Build|Heavy|Unit|Emulated   one tier
# Further arguments go to dotnet test (e.g. --filter "FullyQualifiedName~BuildTests").
set -euo pipefail
cd "$(dirname "$0")/.."
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_USE_MSBUILD_SERVER=0 DOTNET_NOLOGO=1
tier=
case "${1:-}" in
  --fast) tier=Unit; shift ;;
  --tier) tier=$2; shift 2 ;;
esac
# The full run goes in two steps: the tiers that run in parallel (Unit, Build; they keep both cores
# busy), then the Heavy tier (Debian builds and qemu boots, one at a time) with the Emulated tier (an
# arm64 image built under qemu-user and booted under TCG, a quarter of an hour of mostly one emulated
# process) beside it as a second dotnet test: the Heavy tier leaves the second core idle much of the time,
# and the arm64 build runs at the lowest priority (Arm64BootTests), so the Heavy tests come first.
if [ -n "$tier" ]; then
  steps=("Tier=$tier") beside=''
else
  steps=("Tier!=Heavy&Tier!=Emulated" "Tier=Heavy") beside="Tier=Emulated"
fi
# dotnet test takes one --filter: a filter given here narrows each step's.
rest=()
while [ $# -gt 0 ]; do
  if [ "$1" = --filter ] && [ $# -gt 1 ]; then
    for i in "${!steps[@]}"; do steps[i]="(${steps[i]})&($2)"; done
    beside=${beside:+"($beside)&($2)"}; shift 2
  else rest+=("$1"); shift; fi
done
if [ "$tier" != Unit ]; then
  eng/host-tools.sh
fi
mkdir -p artifacts/logs artifacts/test-results
rm -f artifacts/test-results/*.trx artifacts/test-results/beside.log
dotnet build DiskImageBuilder.sln -bl:artifacts/logs/build.binlog -v:q -nologo
status=0
tests=(dotnet test tests/DiskImageBuilder.Tests --no-build --results-directory artifacts/test-results
  --logger "console;verbosity=normal" ${rest[@]+"${rest[@]}"})
side='' side_status=0 trxs=()
for i in "${!steps[@]}"; do
  if [ -n "$beside" ] && [ "$i" -eq $((${#steps[@]} - 1)) ]; then
    # A process group of its own, so that an interrupted run ends the one beside it with all its children.
    setsid "${tests[@]}" --logger "trx;LogFileName=beside.trx" --filter "$beside" > artifacts/test-results/beside.log 2>&1 &
    side=$!
    trap 'kill -TERM -- "-$side" 2>/dev/null || true' EXIT
  fi
  "${tests[@]}" --logger "trx;LogFileName=step$i.trx" --filter "${steps[i]}" || status=$?
  trxs+=("artifacts/test-results/step$i.trx")
done
if [ -n "$side" ]; then
  wait "$side" || side_status=$?
  trap - EXIT
  echo "--- the tests run beside the others ($beside):"
  cat artifacts/test-results/beside.log
fi
# The CI reads only a plain closing line; dotnet test's own summary is not one it knows.
lost=0
for trx in "${trxs[@]}"; do
  if [ ! -f "$trx" ]; then
    echo "FAILED no test results were written to $trx"
    lost=$((lost + 1))
  fi
done
# A filter that leaves nothing to run beside writes no results there; a run that failed and wrote none is one failure.
if [ -f artifacts/test-results/beside.trx ]; then
  trxs+=(artifacts/test-results/beside.trx)
elif [ "$side_status" != 0 ]; then
  echo "FAILED the tests beside the others ($beside) wrote no results; dotnet test exited with $side_status"
  lost=$((lost + 1))
fi
if [ "$side_status" != 0 ]; then status=1; fi
# The sum of one counter over the result files.
counter() {
  local n=0 f v
  for f in "${trxs[@]}"; do
    [ -f "$f" ] || continue
    v=$(grep -o "<Counters [^>]*" "$f" | grep -o " $1=\"[0-9]*\"" | grep -o "[0-9]*" || echo 0)
    n=$((n + v))
  done
  echo "$n"
}
# The CI shows only the end of the output: name each failed test and its message's first lines there.
if [ "$(counter failed)" != 0 ] && command -v python3 >/dev/null; then
  python3 - "${trxs[@]}" <<'PY'
import os, sys, xml.etree.ElementTree as ET
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
for trx in filter(os.path.exists, sys.argv[1:]):
    for r in ET.parse(trx).getroot().iterfind(".//t:UnitTestResult", ns):
        if r.get("outcome") != "Failed":
            continue
        message = r.findtext(".//t:ErrorInfo/t:Message", "", ns).strip().splitlines()
        print("FAILED " + r.get("testName"))
        for line in message[:15]:
            print("    " + line)
PY
fi
passed=$(counter passed)
failed=$(( $(counter failed) + $(counter error) + $(counter timeout) + $(counter aborted) + lost ))
echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ]; then status=1; fi
exit $status
