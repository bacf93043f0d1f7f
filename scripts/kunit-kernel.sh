#!/usr/bin/env bash
# Build (or reuse) a KUnit test kernel from Debian's linux-source-6.12.
#
#   scripts/kunit-kernel.sh FLAVOUR      FLAVOUR: fast (clang, LLVM=1) or debug (gcc)
#
# The kernel is configured from tests/kunit/config/base.config plus the
# flavour's fragment on top of tinyconfig, built out of tree (make O=) in the
# cache, keyed by the fragments, the source version and the toolchain, with
# ccache, and reused while the key holds.  Prints the build directory, which
# is also the KDIR to build the module against; its arch/x86/boot/bzImage is
# the kernel to boot.  A first build takes a few minutes on 2 cores.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

flavour=${1:?usage: kunit-kernel.sh fast|debug}
case "$flavour" in
fast)  toolchain=(LLVM=-16 CC="ccache clang-16" HOSTCC=clang-16)
       packages=(clang-16 lld-16 llvm-16) ;;
debug) toolchain=(CC="ccache gcc-12" HOSTCC=gcc-12)
       packages=(gcc-12) ;;
*)     die "unknown flavour '$flavour' (fast or debug)" ;;
esac

install_if_missing() {
	local p missing=()
	for p in "$@"; do
		dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	log "installing ${missing[*]}"
	as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
}

# One kernel build at a time on this machine (each uses every core); a
# second caller waits, then reuses what the first built.
mkdir -p "$CKPT_CACHE"
exec 9>"$CKPT_CACHE/kunit-kernel.lock"
flock 9

install_if_missing linux-source-6.12 build-essential bc bison flex libelf-dev libssl-dev \
	dwarves python3 ccache kmod cpio xz-utils "${packages[@]}"

tarball=$(ls /usr/src/linux-source-6.12*.tar.xz | sort -V | tail -n1)
src_version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
src=$CKPT_CACHE/src/linux-source-$src_version
if [ ! -f "$src/.unpacked" ]; then
	log "unpacking $tarball into $src"
	rm -rf "$src" && mkdir -p "$src"
	tar -xJf "$tarball" -C "$src" --strip-components=1
	touch "$src/.unpacked"
fi

fragments=("$CKPT_ROOT/tests/kunit/config/base.config" "$CKPT_ROOT/tests/kunit/config/$flavour.config")
key=$( { cat "${fragments[@]}"; echo "$src_version"; echo "${toolchain[*]}"; } | sha256sum | cut -c1-12)
out=$CKPT_CACHE/kunit/$flavour-$key
export CCACHE_DIR=${CCACHE_DIR:-$CKPT_CACHE/ccache}
kmake() { make -C "$src" O="$out" "${toolchain[@]}" "$@"; }

if [ ! -f "$out/.built" ]; then
	log "building the $flavour KUnit kernel in $out (a few minutes the first time)"
	mkdir -p "$out"
	kmake -s tinyconfig >/dev/null
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=y) "$src/scripts/config" --file "$out/.config" -e "${line%%=*}" ;;
		"# CONFIG_"*" is not set") name=${line#\# }; name=${name%% *}
			"$src/scripts/config" --file "$out/.config" -d "$name" ;;
		CONFIG_*=\"*\") name=${line%%=*}; value=${line#*=}; value=${value#\"}; value=${value%\"}
			"$src/scripts/config" --file "$out/.config" --set-str "${name#CONFIG_}" "$value" ;;
		esac
	done < <(cat "${fragments[@]}")
	kmake -s olddefconfig >/dev/null
	# olddefconfig silently drops options whose dependencies are unmet.
	missing=0
	while IFS= read -r line; do
		[[ "$line" == CONFIG_*=* || "$line" == "# CONFIG_"*" is not set" ]] || continue
		grep -qxF "$line" "$out/.config" || { log "option lost by olddefconfig: $line"; missing=1; }
	done < <(cat "${fragments[@]}")
	((missing == 0)) || die "the $flavour config is incomplete"
	start=$SECONDS
	kmake -s -j"$(nproc)" bzImage modules >"$out/build.log" 2>&1 ||
		{ tail -n 40 "$out/build.log" >&2; die "kernel build failed (log: $out/build.log)"; }
	touch "$out/.built"
	log "built in $((SECONDS - start)) s"
fi
printf '%s\n' "$out"
