#!/bin/sh
# Like the official nginx image: /etc/nginx/templates/*.template → /etc/nginx/conf.d/ with
# the environment's variables filled in (only those that are set), and with
# NGINX_ENTRYPOINT_LOCAL_RESOLVERS the DNS server of /etc/resolv.conf as
# NGINX_LOCAL_RESOLVERS. Only the first: podman lists its network's DNS (which knows the
# service names) before the host's, and nginx would ask them in turn, failing every other
# lookup of "app" (Docker lists only its own 127.0.0.11).
set -eu
if [ -n "${NGINX_ENTRYPOINT_LOCAL_RESOLVERS:-}" ]; then
  NGINX_LOCAL_RESOLVERS="$(awk '/^nameserver/ { if ($2 ~ ":") print "[" $2 "]"; else print $2; exit }' /etc/resolv.conf)"
  export NGINX_LOCAL_RESOLVERS
fi
if [ -d /etc/nginx/templates ]; then
  defined="$(env | cut -d= -f1 | sed 's/^/${/; s/$/}/' | xargs)"
  for template in /etc/nginx/templates/*.template; do
    [ -f "$template" ] || continue
    out="/etc/nginx/conf.d/$(basename "$template" .template)"
    envsubst "$defined" < "$template" > "$out"
  done
fi
exec "$@"
