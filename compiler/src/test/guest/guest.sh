#!/bin/bash
# meshc's guest kernel: runs one command inside Debian's own kernel (linux-image-amd64, which has
# ip_gre, sit, ipip, ... that the machine's kernel may lack), chrooted into this machine's root
# file system shared read-only over 9p, with a results directory shared read-write.
#
#   guest.sh [options] [--] COMMAND [ARG...]
#     --results DIR     shared read-write, also where command.sh, rc, guest.log, console.log go
#                       (default: a new temporary directory, printed)
#     --modules LIST    kernel modules to load before the command (comma or space separated)
#     --env NAME=VALUE  set in the command's environment (repeatable)
#     --cwd DIR         the command's working directory (default: the current one)
#     --timeout S       the command's time limit inside the guest (default 900)
#     --accel A         auto (default: KVM if a 20 s probe boots, else TCG) | kvm | tcg
#     --mem MB --smp N  guest size (default 2048, 2)
#     --nice N          run qemu at this scheduling niceness (default 0): beside a test suite, the
#                       guest takes the cores the suite leaves idle rather than half of them
#   guest.sh --prepare  only build (or find) the cached kernel and initramfs; prints the cache dir
#
# Exit: the command's exit code; 100 when the guest could not be prepared or started, 101 when the
# command did not finish (timeout, guest crash). Nothing is installed: the kernel package is
# fetched with `apt-get download` and extracted with `dpkg-deb -x` into the cache
# (${MESHC_GUEST_CACHE:-~/.cache/meshc-guest}/<package>_<version>/), reused while the package's
# version is the same. Needs: apt-get, dpkg-deb, depmod/modprobe (kmod), busybox (busybox-static),
# cpio, gzip, qemu-system-x86_64; root for the 9p shares of /.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
T0=$(date +%s%N)
el() { echo $(( ($(date +%s%N) - T0) / 1000000 )) | awk '{printf "%.1f", $1/1000}'; }
say() { echo "[guest +$(el)s] $*" >&2; }
die() { say "ERROR: $*"; exit 100; }

RES= MODULES= CWD=$PWD TMO=900 ACCEL=${MESHC_GUEST_ACCEL:-auto} MEM=2048 SMP=2 PREPARE_ONLY= NICE=0
ENVS=()
while [ $# -gt 0 ]; do
    case $1 in
        --results) RES=$2; shift 2;;
        --modules) MODULES=$(echo "$2" | tr ', ' '  '); shift 2;;
        --env) ENVS+=("$2"); shift 2;;
        --cwd) CWD=$2; shift 2;;
        --timeout) TMO=$2; shift 2;;
        --accel) ACCEL=$2; shift 2;;
        --mem) MEM=$2; shift 2;;
        --smp) SMP=$2; shift 2;;
        --nice) NICE=$2; shift 2;;
        --prepare) PREPARE_ONLY=1; shift;;
        --) shift; break;;
        -*) die "unknown option $1";;
        *) break;;
    esac
done
[ -n "$PREPARE_ONLY" ] || [ $# -gt 0 ] || die "no command given"
for t in apt-get apt-cache dpkg-deb depmod modprobe cpio gzip qemu-system-x86_64 flock; do
    command -v "$t" >/dev/null || die "$t is missing (apt-get install qemu-system-x86 busybox-static cpio kmod)"
done
BUSYBOX=$(command -v busybox || true)
[ -n "$BUSYBOX" ] && file -L "$BUSYBOX" 2>/dev/null | grep -q 'statically linked' || BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "busybox is missing (apt-get install busybox-static)"

# ---------------------------------------------------------------- the kernel, cached by package version
CACHE_ROOT=${MESHC_GUEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/meshc-guest}
mkdir -p "$CACHE_ROOT"
kpkg() { apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}'; }
KPKG=$(kpkg)
if [ -z "$KPKG" ]; then say "apt-get update (no linux-image-amd64 in the package lists)"; timeout 600 apt-get update -qq || true; KPKG=$(kpkg); fi
[ -n "$KPKG" ] || die "apt-cache knows no linux-image-amd64"
KPV=$(apt-cache policy "$KPKG" 2>/dev/null | awk '/Candidate:/{print $2; exit}')
[ -n "$KPV" ] && [ "$KPV" != "(none)" ] || die "no candidate version for $KPKG"
KVER=${KPKG#linux-image-}
CACHE=$CACHE_ROOT/${KPKG}_$KPV
KROOT=$CACHE/kernel
exec 9>"$CACHE_ROOT/.lock"
flock 9   # one builder at a time; readers of a finished cache entry are not affected
if [ ! -f "$CACHE/ready" ]; then
    say "building the guest kernel tree from $KPKG $KPV into $CACHE"
    rm -rf "$CACHE"; mkdir -p "$CACHE/deb"
    (cd "$CACHE/deb" && timeout 900 apt-get download -q "$KPKG=$KPV" 2>&1 | grep -v 'unsandboxed' >&2) || true
    DEB=$(ls "$CACHE"/deb/*.deb 2>/dev/null | head -n1)
    [ -n "$DEB" ] || die "apt-get download $KPKG=$KPV failed"
    dpkg-deb -x "$DEB" "$KROOT"
    rm -f "$DEB"
    depmod -b "$KROOT" "$KVER"
    touch "$CACHE/ready"
fi
VMLINUZ=$KROOT/boot/vmlinuz-$KVER
[ -f "$VMLINUZ" ] || die "$VMLINUZ missing from the cache; delete $CACHE"

# the initramfs: keyed by the init script and the modprobe wrapper (both from this directory)
IKEY=$(cat "$HERE/init" "$0" "$BUSYBOX" | sha256sum | cut -c1-16)
INITRD=$CACHE/initrd-$IKEY.gz
if [ ! -f "$INITRD" ]; then
    say "building the initramfs ($INITRD)"
    IR=$(mktemp -d); mkdir -p "$IR"/{bin,mod,host,proc,sys,dev,etc,tmp}
    cp "$BUSYBOX" "$IR/bin/busybox"
    cp "$HERE/init" "$IR/init"
    MODS=""
    for top in virtio_pci 9pnet_virtio 9p; do
        for m in $(modprobe -d "$KROOT" -S "$KVER" --show-depends "$top" | awk '$1=="insmod"{print $2}'); do
            b=$(basename "$m"); b=${b%.ko*}
            case " $MODS " in *" $b "*) ;; *) cp "$m" "$IR/mod/$b.ko"; MODS="$MODS $b";; esac
        done
    done
    # compressed modules (.ko.xz) would need busybox's insmod to decompress; Debian 12's are plain .ko
    echo "$MODS" >"$IR/etc/boot-modules"
    cat >"$IR/bin/modprobe-host" <<MP
#!/bin/busybox sh
# the kernel's module loader: the host's kmod, chrooted, against the extracted kernel tree
exec /bin/chroot /host /sbin/modprobe -d $KROOT "\$@"
MP
    chmod +x "$IR/init" "$IR/bin/modprobe-host"
    (cd "$IR" && find . | cpio -o -H newc --quiet | gzip -1 >"$INITRD.tmp") && mv "$INITRD.tmp" "$INITRD"
    rm -rf "$IR"
fi
flock -u 9
if [ -n "$PREPARE_ONLY" ]; then echo "$CACHE"; exit 0; fi

# ---------------------------------------------------------------- the run
if [ -z "$RES" ]; then RES=$(mktemp -d /tmp/meshc-guest.XXXXXX); say "results: $RES"; fi
mkdir -p "$RES"; RES=$(cd "$RES" && pwd)
rm -f "$RES/rc" "$RES/booted" "$RES/guest.log" "$RES/console.log"
{
    echo "#!/bin/bash"
    echo "# written by guest.sh; runs inside the guest, chrooted into the host root"
    echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 MESHC_GUEST=1"
    for e in "${ENVS[@]}"; do printf 'export %q\n' "$e"; done
    printf 'cd %q || exit 99\n' "$CWD"
    printf '%q ' "$@"; echo
    echo "echo \$? > $(printf %q "$RES/rc")"
} >"$RES/command.sh"

qemu() { # accel-args timeout-seconds log extra-cmdline
    timeout --kill-after=10 "$2" nice -n "$NICE" qemu-system-x86_64 $1 -m "$MEM" -smp "$SMP" -nographic -no-reboot -net none \
        -kernel "$VMLINUZ" -initrd "$INITRD" \
        -append "console=ttyS0 panic=-1 quiet meshc.res=$RES meshc.modules=$(echo $MODULES | tr ' ' ,) meshc.timeout=$TMO $4" \
        -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
        -virtfs local,path="$RES",mount_tag=results,security_model=none,multidevs=remap \
        </dev/null >"$3" 2>&1
}
TCG="-accel tcg,thread=multi -cpu max"
case $ACCEL in
    kvm) ACC="-enable-kvm -cpu host";;
    tcg) ACC=$TCG;;
    auto)
        ACC=$TCG
        if [ -w /dev/kvm ]; then
            # the verdict is kept per host kernel and qemu version: a failing probe costs up to 20 s
            PROBE=$CACHE_ROOT/kvm-probe-$(uname -r)-$(qemu-system-x86_64 --version | head -n1 | awk '{print $4}')
            if [ ! -f "$PROBE" ]; then
                say "probing KVM (20 s at most)"
                qemu "-enable-kvm -cpu host" 20 "$RES/kvm-probe.log" meshc_probe || true
                if grep -q MESHC-PROBE-OK "$RES/kvm-probe.log"; then echo kvm >"$PROBE"
                else echo "tcg: $(tr -d '\r' <"$RES/kvm-probe.log" | grep -v '^$' | tail -n 2 | tr '\n' ' ')" >"$PROBE"; fi
            fi
            [ "$(head -c3 "$PROBE")" = kvm ] && ACC="-enable-kvm -cpu host" || say "KVM not usable here ($(cat "$PROBE")); TCG"
        fi;;
    *) die "--accel $ACCEL";;
esac
CMDLINE="$*"; [ ${#CMDLINE} -le 160 ] || CMDLINE="${CMDLINE:0:80} ... ${CMDLINE: -60}"
say "booting $KPKG $KPV with qemu $ACC${MODULES:+, modules $MODULES}${NICE:+, nice $NICE}: $CMDLINE"
TB=$(date +%s%N)
set +e
TIMEFORMAT="qemu cpu: user %U s, sys %S s, wall %R s"
{ time qemu "$ACC" $((TMO + 120)) "$RES/console.log" "" 2>/dev/null; } 2>"$RES/qemu-time"
QRC=$?
set -e
TE=$(date +%s%N)
say "$(cat "$RES/qemu-time"); load average $(cut -d' ' -f1-3 /proc/loadavg)"
if [ -f "$RES/booted" ]; then

    say "booted: the command started $(cat "$RES/booted") s after the kernel did (guest uptime)"
else
    say "the guest never reached the command (qemu exit $QRC); console:"
    tail -n 40 "$RES/console.log" | tr -d '\r' >&2
    exit 100
fi
say "qemu ran $(( (TE - TB) / 1000000 )) ms; qemu exit $QRC"
if [ ! -f "$RES/rc" ]; then
    say "the command did not finish (time limit ${TMO}s or a guest crash); console tail:"
    tail -n 20 "$RES/console.log" | tr -d '\r' >&2
    exit 101
fi
RC=$(cat "$RES/rc")
say "command exit $RC; log $RES/guest.log"
exit "$RC"
