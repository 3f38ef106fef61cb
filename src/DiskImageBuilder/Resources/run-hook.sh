# Runs one hook script on the host, inside a private mount and PID namespace (set up by the
# caller with unshare), so nothing it mounts or starts outlives it. $1: the directory to run in
# (the caller's, as in DIB; entering the tree's mount namespace resets it), $2: the script;
# $3…: the environment.d files to source first, in dib-run-parts' order (the engine lists them).
exec 2>&1 </dev/null
cd -- "$1" || exit 1
script=$2
shift 2
# A file that fails or exits while sourced is named on the last line (the engine reads it): DIB0008.
for f in "$@"; do
  trap 'echo "dib-environment-failed: environment.d/${f##*/}"' EXIT
  # shellcheck source=/dev/null
  . "$f" || exit 1
done
trap - EXIT
exec "$script"
