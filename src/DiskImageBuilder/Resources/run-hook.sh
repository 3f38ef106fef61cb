# Runs one hook script on the host, inside a private mount and PID namespace (set up by the
# caller with unshare), so nothing it mounts or starts outlives it. $1: the script; $2…: the
# environment.d files to source first, in dib-run-parts' order (the engine lists them).
exec 2>&1 </dev/null
script=$1
shift
for f in "$@"; do
  . "$f" || { echo "dib: sourcing environment.d/${f##*/} failed"; exit 1; }
done
exec "$script"
