"""Namespace URIs, spelled once (PS3.18 §8, IHE ITI TF-2 Appendix V)."""

SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
WSA = "http://www.w3.org/2005/08/addressing"
XOP = "http://www.w3.org/2004/08/xop/include"
IHE = "urn:ihe:iti:xds-b:2007"
IHE_RAD = "urn:ihe:rad:xdsi-b:2009"
WADO = "urn:dicom:wado:ws:2011"
RS = "urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0"
RIM = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"


def q(ns: str, local: str) -> str:
    """Clark notation, as lxml spells qualified names."""
    return f"{{{ns}}}{local}"
