#!/bin/sh
# Stubs from the OFFICIAL IHE XDS-I.b WSDL (with its schemas), which the client loads from its classpath.
# usage: build.sh IHE_OFFICIAL_DIR OUTDIR    (IHE_OFFICIAL_DIR holds wsdl/ and schema/)
set -eu
official=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
"$here/../jaxws/build.sh" "$official/wsdl/XDS-I.b_ImagingDocumentSource.wsdl" "$out" \
    "$here/OfficialClient.java" "$here/../jaxws/Rad69Call.java"
cp -r "$official/wsdl" "$official/schema" "$out/classes/"
