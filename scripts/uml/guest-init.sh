#!/bin/sh
# PID 1 of the User-mode Linux guest (scripts/uml/boot.ts starts it with init=this file).
# The root is the host's, read-only through hostfs; everything the guest writes goes to a tmpfs,
# except the work directory the host shares for the command, its output and its exit code.
# Kernel command-line words of the form NAME=value arrive here as environment variables:
#   GBT_WORK      the host's work directory (command.sh, env, and where rc is written)
#   GBT_WRITABLE  colon-separated host directories to overlay with a tmpfs (may be empty)
# No network device is configured: the guest has its loopback and what its namespaces make.
set -u
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

say() { echo "gbt-uml: [$(cut -d" " -f1 /proc/uptime)] $*"; }

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mountpoint -q /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# /tmp on a disk (ext4 on /dev/ubdb, a sparse file on the host), as on most hosts: the tests'
# engines keep their layers under /tmp, and 6.1 can idmap-mount ext4 but not tmpfs (6.3+)
if [ -b /dev/ubdb ] && mkfs.ext4 -q -F /dev/ubdb && mount /dev/ubdb /tmp; then chmod 1777 /tmp; else
  say "no /dev/ubdb: /tmp is a tmpfs"; mount -t tmpfs -o mode=1777 tmpfs /tmp
fi
mount -t tmpfs -o mode=755 tmpfs /run
# pure cgroup v2, as on every current distribution
mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
mount -t bpf bpf /sys/fs/bpf 2>/dev/null || true

# the host's work directory, writable (the only host path the guest can write)
mkdir -p /run/gbt-host
mount -t hostfs -o "$GBT_WORK" hostfs /run/gbt-host

# State that Glassbox and the tests keep goes to the tmpfs: /run/glassbox (runtime, userns leases)
# and /run/glassbox-state (GLASSBOX_ROOT, set by the command's env)
mkdir -p /run/glassbox /run/glassbox-state
hostname gbt-uml
ip link set lo up

# Modules, in the order the host worked out from modules.dep (boot.ts; the host has no kmod, and
# every process the guest starts costs it tens of milliseconds, so nothing is computed here)
for ko in $(cat /run/gbt-host/modules); do busybox insmod "$ko" || say "insmod $ko failed"; done
say "modules loaded"

# GBT_WRITABLE: host directories (the repository) made writable in the guest, an overlay whose
# upper layer is on the tmpfs: vite writes its bundled config next to node_modules, and nothing the
# guest writes there reaches the host
i=0
for d in $(echo "${GBT_WRITABLE:-}" | tr : " "); do
  i=$((i + 1))
  # a checkout under /tmp is hidden by the guest's own /tmp above: show the host's directory there
  case "$d" in /tmp/*) mkdir -p "$d" && mount -t hostfs -o "$d" hostfs "$d" || say "hostfs $d failed" ;; esac
  mkdir -p /run/gbt-overlay/$i/upper /run/gbt-overlay/$i/work
  mount -t overlay -o "lowerdir=$d,upperdir=/run/gbt-overlay/$i/upper,workdir=/run/gbt-overlay/$i/work" overlay "$d" || say "overlay on $d failed"
done

# Debian's iptables is the nf_tables flavour, and this kernel has no nft_chain_nat: the legacy
# (x_tables) binaries, whose modules it has, come first in PATH under the plain names.
mkdir -p /run/gbt-bin
for n in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
  ln -s "/usr/sbin/${n%%-*}-legacy${n#${n%%-*}}" "/run/gbt-bin/$n"
done
# On an AMX host (boot.ts: GBT_FPREGS_FALLBACK) linux.uml keeps only the x87/SSE registers of a
# guest process (native/uml/xstate-filter.h): node with its JIT off AVX, whose upper register
# halves would be lost between threads. Workers forked by vitest inherit the flags (execArgv).
if [ "${GBT_FPREGS_FALLBACK:-}" = 1 ]; then
  printf '#!/bin/sh\nexec /usr/bin/node --no-enable-avx --no-enable-avx2 --no-enable-fma3 "$@"\n' > /run/gbt-bin/node
  chmod 755 /run/gbt-bin/node
fi
PATH=/run/gbt-bin:$PATH

# Delegate the controllers Glassbox uses, as systemd does on a v2 host
echo "+memory +pids +cpu +io" > /sys/fs/cgroup/cgroup.subtree_control || say "cgroup.subtree_control refused"

# Like systemd's init.scope: no process stays in the root cgroup, the command runs in a leaf
mkdir /sys/fs/cgroup/gbt.scope && echo $$ > /sys/fs/cgroup/gbt.scope/cgroup.procs

[ -f /run/gbt-host/env ] && . /run/gbt-host/env
export PATH="/run/gbt-bin:$PATH"
say "ready"
echo "@@gbt-uml-begin@@"
sh /run/gbt-host/command.sh </dev/null >/run/gbt-host/output 2>&1 &
cmd=$!
# stream the command's output to the console while it runs, so a long run shows progress
tail -f /run/gbt-host/output --pid=$cmd 2>/dev/null &
wait $cmd
rc=$?
sleep 0.2
echo "@@gbt-uml-end $rc@@"
echo "$rc" > /run/gbt-host/rc
sync
poweroff -f
