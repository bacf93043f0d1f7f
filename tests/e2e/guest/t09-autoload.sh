# Loading on first open, as on a host with the package installed: kmod
# creates /dev/ckpt at boot from modules.devname (the devname:ckpt alias
# and the static minor), and opening it makes the kernel run modprobe for
# char-major-10-MINOR, which the module's other alias answers.  Here the
# node is made from the module's own aliases and busybox's depmod and
# modprobe stand in for kmod's.  Leaves the module unloaded and /dev/ckpt
# gone, for t10.

autoload_cleanup() {
	modprobe -r ckpt 2>/dev/null || rmmod ckpt 2>/dev/null
	rm -f /dev/ckpt
	rm -rf "/lib/modules/$(uname -r)"
}

test_autoload() {
	local rel moddir minor dep
	[ -f "$KMOD/ckpt.ko" ] || fail "$KMOD/ckpt.ko is missing (module did not build)" || return
	! grep -q '^ckpt ' /proc/modules || fail "ckpt is loaded before the test" || return
	[ ! -e /dev/ckpt ] || fail "/dev/ckpt exists before the module is loaded" || return

	# busybox's modinfo and modprobe both read modules.dep.
	rel=$(uname -r)
	moddir=/lib/modules/$rel/updates
	mkdir -p "$moddir"
	cp "$KMOD/ckpt.ko" "$moddir/"
	for dep in $(cat "$KMOD/deps.order" 2>/dev/null); do cp "$KMOD/deps/$dep" "$moddir/"; done
	if ! depmod "$rel" 2>"$WORK/depmod.err"; then
		autoload_cleanup
		fail "depmod: $(oneline "$WORK/depmod.err")"
		return
	fi
	modinfo -F alias "$moddir/ckpt.ko" >"$WORK/alias" 2>&1 || true
	minor=$(sed -n 's/^char-major-10-\([0-9]*\)$/\1/p' "$WORK/alias")
	if ! grep -qx 'devname:ckpt' "$WORK/alias" || [ -z "$minor" ]; then
		autoload_cleanup
		fail "aliases devname:ckpt and char-major-10-MINOR wanted, modinfo says: $(oneline "$WORK/alias")"
		return
	fi
	mknod -m 0600 /dev/ckpt c 10 "$minor"

	if ! tmo sh -c ': </dev/ckpt' 2>"$WORK/open.err"; then
		autoload_cleanup
		fail "opening /dev/ckpt (10:$minor) did not load the module: $(oneline "$WORK/open.err")"
		return
	fi
	if ! grep -q '^ckpt ' /proc/modules; then
		autoload_cleanup
		fail "/dev/ckpt opened but ckpt is not in /proc/modules"
		return
	fi
	autoload_cleanup
	! grep -q '^ckpt ' /proc/modules || fail "modprobe -r ckpt left it loaded"
}

t module/autoload-on-open test_autoload
