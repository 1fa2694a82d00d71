#!/bin/sh
# Entrypoint of the nginx-unprivileged substitute, with the official image's
# behaviour. Before nginx starts, it runs the scripts in /docker-entrypoint.d/
# in name order. An executable *.envsh is sourced, so its exports reach nginx
# and the later scripts, and an executable *.sh is run. Any other command runs
# as given. NGINX_ENTRYPOINT_QUIET_LOGS, set to anything, silences its lines.
set -e

log() {
  if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
    echo "$0: $*"
  fi
}

if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
  for script in /docker-entrypoint.d/*; do
    [ -f "$script" ] || continue
    case "$script" in
      *.envsh)
        if [ -x "$script" ]; then
          log "Sourcing $script"
          . "$script"
        else
          log "Ignoring $script, not executable"
        fi
        ;;
      *.sh)
        if [ -x "$script" ]; then
          log "Launching $script"
          "$script"
        else
          log "Ignoring $script, not executable"
        fi
        ;;
      *)
        log "Ignoring $script"
        ;;
    esac
  done
  log "Configuration complete; ready for start up"
fi

exec "$@"
