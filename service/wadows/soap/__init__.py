"""The SOAP edge: spyne dispatch, WS-Addressing, MTOM and the faults spyne gets wrong."""

from . import spyne_compat  # noqa: F401  (before any spyne import: Python 3.12+)
