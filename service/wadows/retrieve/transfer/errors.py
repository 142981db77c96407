"""The one exception transcoding raises, whatever library failed underneath."""


class TranscodeError(Exception):
    """This object cannot be produced in the chosen transfer syntax (corrupt or unsupported pixel
    data, an image the encoder refuses). The caller maps it to urn:dicom:wado:0007 when raised
    before the first chunk, urn:dicom:wado:0014 after. Messages never quote element values."""
