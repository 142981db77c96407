"""The DICOM ground floor: facts from PS3.5 and PS3.10 (VRs, tags, element headers, the streaming Part-10
writer), frame decoding and the Native DICOM Model, which every upper layer (store/, deid/, retrieve/,
render/) may import. Nothing here imports from those layers; tests/test_layers.py holds it to that."""
