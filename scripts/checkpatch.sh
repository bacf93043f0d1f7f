#!/usr/bin/env bash
# Run the kernel's checkpatch.pl --strict over the module's C and headers.
# The script comes from Debian's linux-source-6.12 (unpacked into the cache
# on first use).  Exit status: 0 when clean.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

# checkpatch.pl and its data files, from the newest linux-source-6.12.
checkpatch_dir() {
	local tarball dir
	tarball=$(ls /usr/src/linux-source-6.12*.tar.xz 2>/dev/null | sort -V | tail -n1)
	if [ -z "$tarball" ]; then
		as_root apt-get install -y -q --no-install-recommends linux-source-6.12 >/dev/null
		tarball=$(ls /usr/src/linux-source-6.12*.tar.xz | sort -V | tail -n1)
	fi
	dir=$CKPT_CACHE/checkpatch/$(basename "$tarball" .tar.xz)
	if [ ! -x "$dir/scripts/checkpatch.pl" ]; then
		mkdir -p "$dir"
		tar -xJf "$tarball" -C "$dir" --strip-components=1 --wildcards \
			'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
			'*/scripts/const_structs.checkpatch'
	fi
	printf '%s\n' "$dir"
}

checkpatch=$(checkpatch_dir)/scripts/checkpatch.pl
c_files=(src/bridge/*.c src/bridge/bridge.h arch/x86/*.c include/ckpt/bridge.h
	 include/uapi/linux/ckpt.h)

"$checkpatch" --strict --no-tree --terse --show-types -f "${c_files[@]}"
# Version checks are the compat header's whole purpose.
"$checkpatch" --strict --no-tree --terse --show-types \
	--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON -f src/bridge/compat.h
# The KUnit case lists are X-macros: complex by design.
"$checkpatch" --strict --no-tree --terse --show-types \
	--ignore COMPLEX_MACRO,MACRO_ARG_REUSE,TRAILING_SEMICOLON \
	-f tests/kunit/ckpt_kunit.c tests/kunit/kt.h tests/kunit/cases.h
