# Runs one hook script inside the image, in a private mount and PID namespace (set up by the
# caller with unshare): the mounts below exist only in that namespace and vanish with it, and
# every process the script starts dies with it. The host's /dev, /proc and /sys are never
# bind-mounted: the image gets fresh proc and sysfs instances and its own small /dev.
# The script runs after pivot_root into the tree with the host's root detached, not in a chroot:
# nothing of the host is left in its namespace, so a chroot escape (chroot x; cd ../..) finds
# only the image.
# $1: root tree, $2: hooks tree, $3: shell inside the image, $4: script path inside the image,
# $5: a folder on the host (outside the tree) for the /dev entries, made by the build's first script;
# $6: the build's view of apt's package cache on the host (archives/, lists/), or empty for none;
# $7…: the environment.d files to source first (paths inside the image), in dib-run-parts' order.
exec 2>&1 </dev/null
set -e
root=$1 hooks=$2 shell=$3 script=$4 devnodes=$5 packages=$6
shift 6
if [ ! -d "$devnodes" ]; then
  # Made once per build and copied for each script: one cp instead of a dozen processes each time.
  rm -rf "$devnodes.new"
  mkdir -p "$devnodes.new/pts" "$devnodes.new/shm"
  cd "$devnodes.new"
  # A rootless build (a user namespace) may not make device nodes: empty files stand in, and the
  # host's nodes are bound onto them below, as mmdebstrap and podman do.
  if mknod -m 666 null c 1 3 2>/dev/null; then
    mknod -m 666 zero c 1 5
    mknod -m 666 full c 1 7
    mknod -m 666 random c 1 8
    mknod -m 666 urandom c 1 9
    mknod -m 666 tty c 5 0
  else
    touch null zero full random urandom tty .bind
  fi
  ln -s pts/ptmx ptmx
  ln -s /proc/self/fd fd
  ln -s /proc/self/fd/0 stdin
  ln -s /proc/self/fd/1 stdout
  ln -s /proc/self/fd/2 stderr
  cd /
  mv "$devnodes.new" "$devnodes"
fi
mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/tmp/in_target.d"
# pivot_root needs the new root to be a mount point; mounts below land on this one.
mount --rbind "$root" "$root"
mount -t proc -o nosuid,nodev,noexec dib-proc "$root/proc"
# The kernel's settings are the host's: readable in the image, never written from it.
mount --bind -o ro "$root/proc/sys" "$root/proc/sys"
# A user namespace without a network namespace of its own may not mount sysfs: the host's, read-only.
mount -t sysfs -o ro,nosuid,nodev,noexec dib-sys "$root/sys" 2>/dev/null \
  || { mount --rbind /sys "$root/sys" && mount -o remount,bind,ro "$root/sys"; }
mount -t tmpfs -o mode=0755,nosuid,size=16m dib-dev "$root/dev"
cp -a "$devnodes/." "$root/dev/"
if [ -e "$root/dev/.bind" ]; then
  rm "$root/dev/.bind"
  for node in null zero full random urandom tty; do
    mount --bind "/dev/$node" "$root/dev/$node"
  done
fi
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 dib-devpts "$root/dev/pts"
mount -t tmpfs -o nosuid,nodev,mode=1777 dib-shm "$root/dev/shm"
# Read-only inside the image, as in diskimage-builder.
mount --bind "$hooks" "$root/tmp/in_target.d"
mount -o remount,ro,bind "$root/tmp/in_target.d"
# apt's downloads and package lists live in the image cache, never in the tree (nor in a snapshot).
# Only real folders: a symbolic link would be followed on the host.
if [ -n "$packages" ]; then
  for pair in archives:var/cache/apt/archives lists:var/lib/apt/lists; do
    target=$root/${pair#*:}
    if [ -d "$target" ] && [ ! -L "$target" ]; then
      mount --bind "$packages/${pair%%:*}" "$target"
    fi
  done
fi
# pivot_root(2) and umount2(2) by number: the host's tools are gone once the root moves, so one
# process (perl, in every Debian) moves it, detaches the old one and execs the image's shell.
case $(uname -m) in
  x86_64) calls="155 166" ;;
  aarch64 | riscv64) calls="41 39" ;;
  i?86 | s390x) calls="217 52" ;;
  ppc64le) calls="203 52" ;;
  *) echo "dib: no pivot_root syscall number known for $(uname -m)" >&2; exit 1 ;;
esac
set +e
# Capabilities no package installation needs leave the bounding set, so neither the script nor
# anything it starts can get them: load kernel modules, set the clock, reboot, raw device and port
# I/O, process accounting, the kernel log, wake alarms, LSM and audit control, BPF, perf.
# shellcheck disable=SC2016,SC2086
exec setpriv --bounding-set -sys_module,-sys_time,-sys_boot,-sys_rawio,-sys_pacct,-syslog,-wake_alarm,-block_suspend,-mac_admin,-mac_override,-audit_control,-audit_read,-bpf,-perfmon \
  perl -e '
my ($pivot, $umount, $root, $shell, $code, @args) = @ARGV;
my ($new, $old) = (".", ".");
chdir $root or die "dib: cd $root: $!\n";
# new root and old root the same: the old root ends up stacked on the new one, then detached.
syscall($pivot + 0, $new, $old) == 0 or die "dib: pivot_root into $root: $!\n";
syscall($umount + 0, $old, 2) == 0 or die "dib: detaching the host root: $!\n";
chdir "/" or die "dib: cd /: $!\n";
exec { $shell } $shell, "-c", $code, @args or die "dib: $shell: $!\n";' $calls "$root" "$shell" '
script=$1
shift
for f in "$@"; do
  trap "echo \"dib-environment-failed: environment.d/\${f##*/}\"" EXIT
  . "$f" || exit 1
done
trap - EXIT
exec "$script"' dib-hook "$script" "$@"
