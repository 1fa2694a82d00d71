#!/bin/sh
# Entrypoint of the redis:8.6-trixie substitute, with the official image's
# behaviour. Options or a config file alone run redis-server. The server drops
# from root to user redis after taking ownership of /data. Protected mode is
# off when no config file is given, because a container's port is reachable
# only where it is published.
set -e

# An option (-x, --x) or a config file as the first argument means redis-server.
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
  set -- redis-server "$@"
fi

if [ "$1" = redis-server ] && [ "$(id -u)" = 0 ]; then
  find . ! -user redis -exec chown redis '{}' +
  exec setpriv --reuid=redis --regid=redis --init-groups "$0" "$@"
fi

# redis-server reads a config file only as its first argument. Options given
# later on the command line override this default.
if [ "$1" = redis-server ] && { [ $# -eq 1 ] || [ "${2#-}" != "$2" ]; }; then
  shift
  set -- redis-server --protected-mode no "$@"
fi

# Keep the data files private unless the caller chose another umask.
if [ "$(umask)" = 0022 ]; then
  umask 0077
fi

exec "$@"
