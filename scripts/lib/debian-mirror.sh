# Sourced by the set-up scripts: debian_mirror prints the Debian mirror apt on this machine is configured with
# (HANDSON_DEBIAN_MIRROR overrides it), the one debootstrap and the private apt states use.
debian_mirror() {
  if [ -n "${HANDSON_DEBIAN_MIRROR:-}" ]; then printf '%s\n' "$HANDSON_DEBIAN_MIRROR"; return; fi
  local files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources)
  { grep -hE '^\s*URIs:' "${files[@]}" 2>/dev/null | awk '{print $2}'
    grep -hE '^\s*deb\s' "${files[@]}" 2>/dev/null | sed -E 's/\[[^]]*\]//' | awk '{print $2}'; } \
    | grep -E '^https?://' | grep -v -- '-security' | grep -E '/debian/?$' | head -n 1 || true
}

# fetch_trixie_debs DIR PACKAGE...: downloads Debian 13's packages into DIR through a private apt state (the
# machine's own sources stay as they are).
fetch_trixie_debs() {
  local into=$1; shift
  local mirror state
  mirror=$(debian_mirror)
  [ -n "$mirror" ] || { echo "no Debian mirror in /etc/apt/sources.list*: set HANDSON_DEBIAN_MIRROR" >&2; return 1; }
  state=$(mktemp -d /tmp/handson-trixie.XXXXXX)
  mkdir -p "$state/lists/partial" "$state/cache/archives/partial" "$into"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "$mirror" > "$state/sources.list"
  local apt_options=(-o "Dir::Etc::SourceList=$state/sources.list" -o Dir::Etc::SourceParts=/dev/null
                     -o "Dir::State::Lists=$state/lists" -o "Dir::Cache=$state/cache" -o APT::Sandbox::User=root)
  apt-get "${apt_options[@]}" update -qq
  (cd "$into" && apt-get "${apt_options[@]}" download "$@" >/dev/null)
  rm -rf "$state"
}
