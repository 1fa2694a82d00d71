#!/bin/sh
# Make the default server listen on IPv6 too, where the kernel has IPv6 and
# /etc/nginx/conf.d/default.conf is still the file that the image ships.
set -e

config=/etc/nginx/conf.d/default.conf

if [ ! -f /proc/net/if_inet6 ]; then
  echo "$0: info: IPv6 is not available, so $config keeps IPv4 only"
  exit 0
fi
if [ ! -f "$config" ]; then
  exit 0
fi
if ! sha256sum --check --status /usr/share/nginx/default.conf.sha256; then
  echo "$0: info: $config differs from the image's, so it is left alone"
  exit 0
fi
if [ ! -w "$config" ]; then
  echo "$0: info: cannot write $config, so it keeps IPv4 only"
  exit 0
fi

sed -i 's/^\( *\)listen       8080;/&\n\1listen  [::]:8080;/' "$config"
echo "$0: info: enabled listen on IPv6 in $config"
