"""The DICOM ground floor: facts from PS3.5 and PS3.10 (VRs, tags, element headers, the streaming Part-10
writer) that store/, deid/, retrieve/ and render/ all need. It imports nothing else of wadows but
implementation.py, so every other package can import it downward."""
