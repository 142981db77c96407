"""De-identification per DICOM PS3.15 Annex E (Table E.1-1, edition 2025b, the twelve CID 7050
options). Independent of the SOAP edge: nothing here imports wadows.soap or wadows.retrieve.
Decisions and their reasons are in README.md beside this file."""

from .engine import Deidentifier
from .keys import load_key
from .pixels import DeidentificationRefused, PixelRule, load_rules
from .profile import OPTIONS, OptionInfo, parse_options
from .stream import DeidentifiedStream

__all__ = ["OPTIONS", "DeidentificationRefused", "DeidentifiedStream", "Deidentifier", "OptionInfo", "PixelRule",
           "load_key", "load_rules", "parse_options"]
