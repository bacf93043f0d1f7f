# Dump the main target (every kind of mapping) and check the image.

MAIN_IMG=$WORK/main.img

test_start_main() {
	start_target main ckpt-target "$WORK" || return
	wait_states "$PID_main" S ||
		fail "target threads in states '$(thread_states "$PID_main")', expected S"
}

# Harness sanity: the "thp" region really is made of huge pages.
test_thp_backed() {
	local kb
	have_main || return
	kb=$(manifest_fact "$WORK/main.manifest" thp_anon_huge_kb)
	[ "${kb:-0}" -ge 2048 ] ||
		fail "region thp has AnonHugePages ${kb:-?} kB: no huge page to dump"
}

test_dump_main() {
	local rc=0
	have_cli && have_module && have_main || return
	cli_dump "$MAIN_IMG" --pid "$PID_main" || rc=$?
	expect_exit 0 $rc "ckpt dump --pid $PID_main" || return
	[ -s "$MAIN_IMG" ] || fail "image $MAIN_IMG is empty"
}

test_verify_main() {
	local rc=0
	[ -s "$MAIN_IMG" ] || fail "no image" || return
	tmo "$CKPT" verify "$MAIN_IMG" "$@" >"$WORK/cli.out" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt verify $*"
}

# The per-region page counts as `ckpt show --json --pages` lists them.
test_show_json() {
	local rc=0
	[ -s "$MAIN_IMG" ] || fail "no image" || return
	tmo "$CKPT" show --json --pages "$MAIN_IMG" >"$WORK/show.json" 2>"$WORK/cli.err" || rc=$?
	expect_exit 0 $rc "ckpt show --json --pages" || return
	check_image --json-pages "$WORK/show.json" "$WORK/main.manifest"
}

t main/start test_start_main
t main/thp-backed test_thp_backed
t main/dump test_dump_main
t main/verify test_verify_main
t main/verify-pid test_verify_main --pid "$PID_main"
if [ -s "$MAIN_IMG" ]; then
	t_tap /ckpt/bin/ckpt-imgcheck --prefix main/ --state stopped --release "$(uname -r)" \
		"$MAIN_IMG" "$WORK/main.manifest"
	t main/show-json-regions test_show_json
fi
