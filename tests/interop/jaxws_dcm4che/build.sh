#!/bin/sh
# Stubs from dcm4che's XDS-I.b WSDL variant (dcm4che-xdsi, with its schemas), unchanged, which the client loads
# from its classpath: what a consumer built on dcm4che's WSDL has.
# usage: build.sh DCM4CHE_VARIANT_DIR OUTDIR    (the directory holds wsdl/ and schema/)
set -eu
variant=$1 out=$2
here=$(cd "$(dirname "$0")" && pwd)
"$here/../jaxws/build.sh" "$variant/wsdl/XDS-I.b_ImagingDocumentSource.wsdl" "$out" \
    "$here/Dcm4cheClient.java" "$here/../jaxws/Documents.java"
cp -r "$variant/wsdl" "$variant/schema" "$out/classes/"
