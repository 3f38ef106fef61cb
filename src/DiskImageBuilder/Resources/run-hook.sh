# Runs one hook script on the host, inside a private mount and PID namespace (set up by the
# caller with unshare), so nothing it mounts or starts outlives it. $1: the script.
exec 2>&1 </dev/null
for f in "$TMP_HOOKS_PATH"/environment.d/*; do
  [ -f "$f" ] || continue
  . "$f" || { echo "dib: sourcing environment.d/${f##*/} failed"; exit 1; }
done
exec "$1"
