#!/bin/sh
# Writes pgbouncer.ini and userlist.txt from the environment, as edoburu/pgbouncer does.
set -eu
umask 077
cat > /etc/pgbouncer/userlist.txt <<USERS
"${DB_USER}" "${DB_PASSWORD}"
USERS
cat > /etc/pgbouncer/pgbouncer.ini <<INI
[databases]
${DB_NAME:-*} = host=${DB_HOST} port=${DB_PORT:-5432}${DB_NAME:+ dbname=${DB_NAME}}

[pgbouncer]
listen_addr = 0.0.0.0
listen_port = ${LISTEN_PORT:-5432}
unix_socket_dir =
auth_type = ${AUTH_TYPE:-scram-sha-256}
auth_file = /etc/pgbouncer/userlist.txt
pool_mode = ${POOL_MODE:-session}
default_pool_size = ${DEFAULT_POOL_SIZE:-20}
max_client_conn = ${MAX_CLIENT_CONN:-100}
admin_users = ${ADMIN_USERS:-postgres}
ignore_startup_parameters = extra_float_digits
INI
exec "$@"
