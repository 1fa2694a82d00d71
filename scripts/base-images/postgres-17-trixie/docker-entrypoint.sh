#!/usr/bin/env bash
# Entrypoint of the postgres:17-trixie substitute. It honours the official
# postgres image's documented variables:
#   POSTGRES_PASSWORD    superuser password, required unless
#                        POSTGRES_HOST_AUTH_METHOD=trust
#   POSTGRES_USER        superuser name (default postgres)
#   POSTGRES_DB          database created at first start (default: the user)
#   POSTGRES_INITDB_ARGS extra initdb arguments, such as "--data-checksums"
#   POSTGRES_HOST_AUTH_METHOD  pg_hba method for network connections
#                        (default scram-sha-256)
# and POSTGRES_PASSWORD_FILE, POSTGRES_USER_FILE, POSTGRES_DB_FILE and
# POSTGRES_INITDB_ARGS_FILE, which name a file (such as a Docker secret) that
# contains the value. On an empty PGDATA it runs initdb and then the *.sh,
# *.sql and *.sql.gz files in /docker-entrypoint-initdb.d in name order.
# Started as root, it fixes the ownership of PGDATA and then runs as postgres.
set -Eeo pipefail

readonly initdb_dir=/docker-entrypoint-initdb.d
readonly socket_dir=/var/run/postgresql

log() { printf '%s: %s\n' "${BASH_SOURCE[0]}" "$*"; }
die() { printf '%s: error: %s\n' "${BASH_SOURCE[0]}" "$*" >&2; exit 1; }

# Set VAR from VAR or from the file that VAR_FILE names, else to DEFAULT.
# Setting both VAR and VAR_FILE is an error.
file_env() {
  local var=$1 default=${2:-}
  local file_var="${var}_FILE"
  local value=$default
  if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
    die "both $var and $file_var are set, but only one may be"
  fi
  if [[ -n ${!var:-} ]]; then
    value=${!var}
  elif [[ -n ${!file_var:-} ]]; then
    value=$(<"${!file_var}")
  fi
  export "$var=$value"
  unset "$file_var"
}

# True when the arguments ask postgres only to print something and exit.
wants_help() {
  local arg
  for arg in "$@"; do
    case $arg in
      -'?' | --help | --describe-config | -V | --version) return 0 ;;
    esac
  done
  return 1
}

setup_env() {
  file_env POSTGRES_PASSWORD
  file_env POSTGRES_USER postgres
  file_env POSTGRES_DB "$POSTGRES_USER"
  file_env POSTGRES_INITDB_ARGS
  : "${POSTGRES_HOST_AUTH_METHOD:=scram-sha-256}"
  DATABASE_ALREADY_EXISTS=
  if [[ -s $PGDATA/PG_VERSION ]]; then
    DATABASE_ALREADY_EXISTS=true
  fi
}

# Create PGDATA and the socket directory, and as root give them to postgres.
create_directories() {
  mkdir -p "$PGDATA"
  chmod 00700 "$PGDATA" || :
  mkdir -p "$socket_dir" || :
  chmod 03775 "$socket_dir" || :
  if [[ $(id -u) == 0 ]]; then
    find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
    find "$socket_dir" \! -user postgres -exec chown postgres '{}' +
  fi
}

verify_minimum_env() {
  if [[ -z $POSTGRES_PASSWORD && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
    cat >&2 <<'EOF'
Error: Database is uninitialized and superuser password is not specified.
       Set POSTGRES_PASSWORD to a non-empty value for the superuser, for
       example "-e POSTGRES_PASSWORD=password" on "docker run", or put it in
       a file and set POSTGRES_PASSWORD_FILE to that file's path.

       POSTGRES_HOST_AUTH_METHOD=trust instead lets every connection in
       without a password. Do not use it beyond a throwaway container.
EOF
    exit 1
  fi
  if [[ $POSTGRES_HOST_AUTH_METHOD == trust ]]; then
    log 'warning: POSTGRES_HOST_AUTH_METHOD=trust lets every network connection in without a password'
  fi
}

# Run initdb with the superuser and password. eval lets POSTGRES_INITDB_ARGS
# carry quoted arguments. initdb rejects an empty password file, so the
# password is always followed by a newline.
init_database_dir() {
  eval 'initdb --username="$POSTGRES_USER" --pwfile=<(printf "%s\n" "$POSTGRES_PASSWORD") '"$POSTGRES_INITDB_ARGS"
}

# initdb's pg_hba.conf lets in local socket and loopback connections only, so
# add a rule for connections from other containers.
allow_network_connections() {
  {
    echo
    echo '# Connections from other hosts and containers, added by the entrypoint.'
    echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
  } >>"$PGDATA/pg_hba.conf"
}

# Start a server that listens on the socket only, so that nothing can connect
# over the network before the init scripts are done. Arguments are postgres
# options from the container's command.
start_temporary_server() {
  local options
  options=$(printf '%q ' "$@" -c "listen_addresses=" -p "${PGPORT:-5432}")
  PGUSER=${PGUSER:-$POSTGRES_USER} pg_ctl -D "$PGDATA" -o "$options" -w start
}

stop_temporary_server() {
  PGUSER=${PGUSER:-$POSTGRES_USER} pg_ctl -D "$PGDATA" -m fast -w stop
}

# Run SQL from standard input, or from the file given with -f, as the
# superuser on the socket.
run_sql() {
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc \
    --dbname "${PSQL_DBNAME:-$POSTGRES_DB}" "$@"
}

create_database() {
  local exists
  exists=$(PSQL_DBNAME=postgres run_sql --set db="$POSTGRES_DB" --tuples-only <<'SQL'
SELECT 1 FROM pg_database WHERE datname = :'db';
SQL
)
  if [[ -z $exists ]]; then
    PSQL_DBNAME=postgres run_sql --set db="$POSTGRES_DB" <<'SQL'
CREATE DATABASE :"db";
SQL
    echo
  fi
}

# Run the files in /docker-entrypoint-initdb.d in name order. A *.sh file
# runs on its own when executable and is sourced otherwise, as in the official
# image, so that it can use run_sql.
run_init_scripts() {
  local file
  echo
  for file in "$initdb_dir"/*; do
    [[ -e $file ]] || continue
    case $file in
      *.sh)
        if [[ -x $file ]]; then
          log "running $file"
          "$file"
        else
          log "sourcing $file"
          # shellcheck disable=SC1090
          . "$file"
        fi
        ;;
      *.sql)
        log "running $file"
        run_sql -f "$file"
        echo
        ;;
      *.sql.gz)
        log "running $file"
        gzip -dc "$file" | run_sql
        echo
        ;;
      *) log "ignoring $file" ;;
    esac
  done
}

initialise() {
  verify_minimum_env
  # Fail now, not after initdb, when the init scripts cannot be read.
  ls "$initdb_dir/" >/dev/null
  init_database_dir
  allow_network_connections
  export PGPASSWORD=${PGPASSWORD:-$POSTGRES_PASSWORD}
  start_temporary_server "$@"
  create_database
  run_init_scripts
  stop_temporary_server
  unset PGPASSWORD
  echo
  log 'PostgreSQL init process complete; ready for start up.'
  echo
}

main() {
  # Options alone, such as "-c shared_buffers=256MB", are options for postgres.
  if [[ ${1:0:1} == - ]]; then
    set -- postgres "$@"
  fi

  if [[ $1 == postgres ]] && ! wants_help "$@"; then
    setup_env
    create_directories
    if [[ $(id -u) == 0 ]]; then
      export HOME=/var/lib/postgresql
      exec setpriv --reuid=postgres --regid=postgres --init-groups \
        "${BASH_SOURCE[0]}" "$@"
    fi
    if [[ -z $DATABASE_ALREADY_EXISTS ]]; then
      initialise "${@:2}"
    else
      log 'PostgreSQL database directory appears to contain a database; skipping initialization'
    fi
  fi

  exec "$@"
}

main "$@"
