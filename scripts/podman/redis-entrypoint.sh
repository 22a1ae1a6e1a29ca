#!/bin/sh
# Like the official image: listen on the container network (protected mode is for hosts).
if [ "${1:-}" = "redis-server" ]; then
  shift
  exec redis-server --bind 0.0.0.0 --protected-mode no "$@"
fi
exec "$@"
