#!/bin/sh
# Generate a gSOAP C client from a WSDL as an integrator would, and compile it.
# usage: build.sh WSDL_URL OUTDIR
# wsdl2h reads the WSDL and every schema over HTTP; wsa5.h is imported as wsdl2h's own notes for this binding
# say (WS-Addressing policy); soapcpp2 -C: client side only, -L: no soapClientLib, -x: no sample messages.
set -eu
wsdl=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
: "${GSOAP_SHARE:=/usr/share/gsoap}"  # Debian package gsoap
mkdir -p "$out"
cd "$out"
wsdl2h -c -t "$here/typemap.dat" -o rad69.h "$wsdl" > wsdl2h.log 2>&1 || { cat wsdl2h.log; exit 1; }
printf '#import "wsa5.h"\n' | cat - rad69.h > rad69-wsa.h
soapcpp2 -c -C -L -x -I"$GSOAP_SHARE/import" rad69-wsa.h > soapcpp2.log 2>&1 || { cat soapcpp2.log; exit 1; }
cc -O1 -o client -I. -I"$GSOAP_SHARE" "$here/client.c" soapC.c soapClient.c "$GSOAP_SHARE/plugin/wsaapi.c" -lgsoap
