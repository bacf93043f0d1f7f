# Loading the module and its device node.

test_insmod() {
	local dep
	[ -f "$KMOD/ckpt.ko" ] || fail "$KMOD/ckpt.ko is missing (module did not build)" || return
	for dep in $(cat "$KMOD/deps.order" 2>/dev/null); do
		insmod "$KMOD/deps/$dep" 2>"$WORK/insmod.err" ||
			fail "insmod dependency $dep: $(oneline "$WORK/insmod.err")" || return
	done
	insmod "$KMOD/ckpt.ko" 2>"$WORK/insmod.err" ||
		fail "insmod ckpt.ko: $(oneline "$WORK/insmod.err") $(dmesg | tail -n 3 | tr '\n' ' ')"
}

test_devnode() {
	local mode owner
	have_module || return
	mode=$(stat -c %A /dev/ckpt)
	owner=$(stat -c %u:%g /dev/ckpt)
	[ "$mode" = "crw-------" ] || fail "/dev/ckpt mode is $mode, expected crw-------" || return
	[ "$owner" = "0:0" ] || fail "/dev/ckpt owner is $owner, expected 0:0"
}

t module/insmod test_insmod
t module/devnode test_devnode
