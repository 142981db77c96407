#!/bin/sh
# Generate JAX-WS RI stubs from a WSDL as an integrator would, and compile them with the client.
# usage: build.sh WSDL_URL_OR_FILE OUTDIR CLIENT_SOURCE...
# -extension: wsimport needs it for a SOAP 1.2 binding (JAX-WS 2.x generates SOAP 1.1 by default).
set -eu
wsdl=$1 out=$2
shift 2
: "${JAVA_LIB:=/usr/share/java}"  # Debian package jaxws (and its jaxb, activation, jws dependencies)
cp="$JAVA_LIB/jaxws-rt.jar:$JAVA_LIB/jaxb-api.jar:$JAVA_LIB/javax.activation.jar:$JAVA_LIB/jws-api.jar"
mkdir -p "$out/src" "$out/classes"
wsimport -extension -Xnocompile -keep -quiet -s "$out/src" -d "$out/src" "$wsdl"
find "$out/src" -name '*.java' > "$out/sources.txt"
printf '%s\n' "$@" >> "$out/sources.txt"
javac -nowarn -encoding UTF-8 -cp "$cp" -d "$out/classes" @"$out/sources.txt"
