#!/bin/sh
# Stubs from a WSDL bundle kept as published (the official IHE one, dcm4che's variant), which the client loads
# from its classpath, so the bundle's placeholder address stays and the client sets the endpoint.
# usage: bundled.sh BUNDLE_DIR OUTDIR CLIENT_SOURCE...    (BUNDLE_DIR holds wsdl/ and schema/)
set -eu
bundle=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
"$here/build.sh" "$bundle/wsdl/XDS-I.b_ImagingDocumentSource.wsdl" "$out" "$@"
cp -r "$bundle/wsdl" "$bundle/schema" "$out/classes/"
