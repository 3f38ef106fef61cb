# Runs one hook script inside the image, in a private mount and PID namespace (set up by the
# caller with unshare): the mounts below exist only in that namespace and vanish with it, and
# every process the script starts dies with it. The host's /dev, /proc and /sys are never
# bind-mounted: the image gets fresh proc and sysfs instances and its own small /dev.
# $1: root tree, $2: hooks tree, $3: shell inside the image, $4: script path inside the image,
# $5: a folder on the host (outside the tree) for the /dev entries, made by the build's first script;
# $6…: the environment.d files to source first (paths inside the image), in dib-run-parts' order.
exec 2>&1 </dev/null
set -e
root=$1 hooks=$2 shell=$3 script=$4 devnodes=$5
shift 5
if [ ! -d "$devnodes" ]; then
  # Made once per build and copied for each script: one cp instead of a dozen processes each time.
  rm -rf "$devnodes.new"
  mkdir -p "$devnodes.new/pts" "$devnodes.new/shm"
  cd "$devnodes.new"
  mknod -m 666 null c 1 3
  mknod -m 666 zero c 1 5
  mknod -m 666 full c 1 7
  mknod -m 666 random c 1 8
  mknod -m 666 urandom c 1 9
  mknod -m 666 tty c 5 0
  ln -s pts/ptmx ptmx
  ln -s /proc/self/fd fd
  ln -s /proc/self/fd/0 stdin
  ln -s /proc/self/fd/1 stdout
  ln -s /proc/self/fd/2 stderr
  cd /
  mv "$devnodes.new" "$devnodes"
fi
mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/tmp/in_target.d"
mount -t proc -o nosuid,nodev,noexec dib-proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec dib-sys "$root/sys"
mount -t tmpfs -o mode=0755,nosuid,size=16m dib-dev "$root/dev"
cp -a "$devnodes/." "$root/dev/"
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 dib-devpts "$root/dev/pts"
mount -t tmpfs -o nosuid,nodev,mode=1777 dib-shm "$root/dev/shm"
# Read-only inside the image, as in diskimage-builder.
mount --bind "$hooks" "$root/tmp/in_target.d"
mount -o remount,ro,bind "$root/tmp/in_target.d"
set +e
exec chroot "$root" "$shell" -c '
script=$1
shift
for f in "$@"; do
  . "$f" || { echo "dib: sourcing environment.d/${f##*/} failed"; exit 1; }
done
exec "$script"' dib-hook "$script" "$@"
