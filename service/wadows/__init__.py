"""wadows: a DICOM WADO-WS SOAP service with PS3.15 de-identification."""

__version__ = "0.1.0"
