#!/bin/sh
# Makes each missing SSH host key (runtime-ssh-host-keys element of DiskImageBuilder).
set -eu
for type in rsa ecdsa ed25519; do
    key=/etc/ssh/ssh_host_${type}_key
    if [ ! -f "$key" ]; then
        ssh-keygen -q -t "$type" -N '' -f "$key"
        echo "runtime-ssh-host-keys: made $key"
    fi
done
