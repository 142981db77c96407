#!/bin/sh
# A self-signed certificate for nginx, made once at first start (kept in a volume after that).
# Usage: make-cert.sh DIR [CN] [subjectAltName]. Replace DIR/server.crt and DIR/server.key with
# your own to use a real certificate; this script never overwrites them.
set -eu
dir="${1:-/etc/wadows/tls}"
cn="${2:-${TLS_CN:-localhost}}"
san="${3:-${TLS_SAN:-DNS:localhost,IP:127.0.0.1}}"
if [ -s "$dir/server.crt" ] && [ -s "$dir/server.key" ]; then
  echo "tls: keeping the certificate in $dir"
  exit 0
fi
mkdir -p "$dir"
umask 077
# CA:TRUE so that clients can trust this very certificate as their CA bundle.
openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=$cn" \
  -addext "subjectAltName=$san" -addext "basicConstraints=critical,CA:TRUE" \
  -keyout "$dir/server.key.new" -out "$dir/server.crt.new" 2>/dev/null
chmod 0644 "$dir/server.crt.new"
mv "$dir/server.key.new" "$dir/server.key"
mv "$dir/server.crt.new" "$dir/server.crt"
echo "tls: made a self-signed certificate for $cn ($san) in $dir"
