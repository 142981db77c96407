"""Rendering for RetrieveRenderedImagingDocumentSet (PS3.18 2016e §6.4.2): DICOM image -> JPEG/PNG/GIF.

No SOAP and no retrieve/ imports: the operation hands in a data set (de-identified when asked) and a
typed request, and gets bytes, a media type and the parameters used, or a RenderError with its code.
"""

from .annotate import annotation_lines
from .errors import RenderError
from .pipeline import Rendered, RenderedParameters, check_object, render
from .presentation import check_state
from .request import Region, RenderRequest, choose_content_type, parse_region
from .voi import Window

__all__ = ["RenderError", "Rendered", "RenderedParameters", "RenderRequest", "Region", "Window", "annotation_lines",
           "check_object", "check_state", "choose_content_type", "parse_region", "render"]
