"""Which encoders share a lock (the stress test through retrieval is tests/retrieve/test_codec_lock.py)."""

from __future__ import annotations

from wadows.codeclock import encoding


def test_openjpeg_syntaxes_share_one_lock_and_others_take_none():
    assert encoding("1.2.840.10008.1.2.4.90") is encoding("1.2.840.10008.1.2.4.91")
    assert encoding("1.2.840.10008.1.2.4.203") is encoding("1.2.840.10008.1.2.4.90")
    with encoding("1.2.840.10008.1.2.5"):
        with encoding("1.2.840.10008.1.2.5"):  # no lock: re-entering is fine
            pass

