"""The DICOM ground floor: renderings and facts about DICOM data that every upper layer (retrieve/,
render/, deid/, store/) may import. Nothing here imports from those layers."""
