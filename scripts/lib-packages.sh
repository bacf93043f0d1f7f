# shellcheck shell=bash
# Debian packages for the host-only scripts (host-tests.sh, fuzz.sh).
# Source it after lib.sh.  Installs only what dpkg says is missing, so on a
# set-up machine it costs a few dpkg look-ups and needs no network.

# Print the packages of "$@" that are not installed.
missing_packages() {
	local p
	for p in "$@"; do
		dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || printf '%s\n' "$p"
	done
}

# Install the packages of "$@" that are missing (apt-get update first when
# the package lists are absent or older than a day).
ensure_packages() {
	local missing out
	mapfile -t missing < <(missing_packages "$@")
	((${#missing[@]})) || return 0
	log "installing ${missing[*]}"
	out=$(mktemp)
	if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]; then
		as_root apt-get update -q >"$out" 2>&1 || { cat "$out" >&2; rm -f "$out"; die "apt-get update failed"; }
	fi
	as_root apt-get install -y -q --no-install-recommends "${missing[@]}" >"$out" 2>&1 ||
		{ cat "$out" >&2; rm -f "$out"; die "apt-get install ${missing[*]} failed"; }
	rm -f "$out"
}
