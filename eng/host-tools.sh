#!/usr/bin/env bash
# Installs the Debian packages that building images and running the tests need on this host.
# Idempotent: installs only what is missing. Needs root (apt-get).
set -euo pipefail
packages=(
  util-linux mount coreutils tar   # namespaces, mounts, chroot and tar outputs (engine)
  uidmap                           # rootless builds: newuidmap, newgidmap (the user namespace of a build that is not root)
  mmdebstrap                       # debian-minimal: the distro tree
  e2fsprogs dosfstools mtools      # disk images: ext4 root and the EFI system partition, no mounts
  xfsprogs                         # RootFileSystem=xfs
  qemu-utils                       # qcow2, vhd, vmdk, vhdx, vdi and the other qemu-img formats
  squashfs-tools                   # the squashfs format
  skopeo umoci podman              # tests: read the docker and oci archives back, podman load
  qemu-system-x86 ovmf             # dotnet build -t:Boot, boot tests (SeaBIOS and UEFI)
  fdisk gdisk                      # tests: read the partition tables back
  grub-pc-bin grub-efi-amd64-bin   # tests: real GRUB boot code for the offline busybox disk
  busybox-static                   # the tests' offline distro element
  attr                             # tests: extended attributes survive the tar
  shellcheck                       # tests: the element lint
  git curl                         # source-repositories and cache-url (host side)
  xorriso grub-common cpio         # the iso element (grub-mkrescue), tests: read ramdisks back
  cloud-image-utils openssh-client # boot tests: a NoCloud seed (cloud-localds), SSH into the guest
  lvm2                             # tests: read back the LVM metadata the engine writes (pvs/vgs/lvs, no device-mapper)
  qemu-user-static arch-test       # Architecture=arm64 on amd64: in-image programs under qemu (binfmt_misc), mmdebstrap's check
  qemu-system-arm qemu-efi-aarch64 # dotnet build -t:Boot and boot tests of arm64 images (virt machine, AAVMF)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "Missing host packages: ${missing[*]}. Run as root, or: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "Installing host packages: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
