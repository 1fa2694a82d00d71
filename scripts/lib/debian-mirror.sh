# Shell functions that read the host's Debian mirrors from its own apt sources,
# so that no script in this project names a mirror of its own. Source this file
# from bash. Each function prints one URI without a trailing slash, or prints
# nothing and returns 1 when the sources contain no such mirror.

# Print the URIs of every deb line in the host's apt sources, one a line, from
# both the one-line format (sources.list, *.list) and the deb822 format
# (*.sources).
apt_source_uris() {
  grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
      /etc/apt/sources.list.d/*.list 2>/dev/null \
    | sed -E 's/^URIs:[[:space:]]*//; s/^deb[[:space:]]+(\[[^]]*\][[:space:]]+)?//' \
    | awk '{print $1}'
}

# Print the URI of the host's main Debian archive, such as http://HOST/debian.
debian_mirror() {
  local uri
  uri=$(apt_source_uris | grep -v -- '-security' | grep -m1 '/debian/\?$' || true)
  [[ -n $uri ]] || return 1
  printf '%s\n' "${uri%/}"
}

# Print the URI of the host's Debian security archive, such as
# http://HOST/debian-security.
debian_security_mirror() {
  local uri
  uri=$(apt_source_uris | grep -m1 '/debian-security/\?$' || true)
  [[ -n $uri ]] || return 1
  printf '%s\n' "${uri%/}"
}
