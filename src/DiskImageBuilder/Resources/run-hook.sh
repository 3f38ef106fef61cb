# Runs one hook script on the host, inside a private mount and PID namespace (set up by the
# caller with unshare), so nothing it mounts or starts outlives it. $1: the directory to run in
# (the caller's, as in DIB; entering the tree's mount namespace resets it), $2: the script;
# $3…: the environment.d files to source first, in dib-run-parts' order (the engine lists them).
exec 2>&1 </dev/null
cd -- "$1" || exit 1
script=$2
shift 2
for f in "$@"; do
  . "$f" || { echo "dib: sourcing environment.d/${f##*/} failed"; exit 1; }
done
exec "$script"
