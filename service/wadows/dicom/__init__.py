"""The DICOM ground floor: facts about encoded objects that every layer above (retrieve/, render/,
deid/) needs, importing none of them."""
