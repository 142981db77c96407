"""Which encoders share a lock (the stress test through retrieval is tests/retrieve/test_codec_lock.py)."""

from __future__ import annotations

from wadows.codeclock import encoding


def test_openjpeg_syntaxes_share_one_lock_and_others_take_none():
    assert encoding("1.2.840.10008.1.2.4.90") is encoding("1.2.840.10008.1.2.4.91")
    assert encoding("1.2.840.10008.1.2.4.203") is encoding("1.2.840.10008.1.2.4.90")
    with encoding("1.2.840.10008.1.2.5"):
        with encoding("1.2.840.10008.1.2.5"):  # no lock: re-entering is fine
            pass



def test_a_worker_forked_while_the_lock_is_held_can_still_encode():
    """workers.py forks workers from a parent; a lock held at that moment must not stay held in the child."""
    import os
    import threading

    lock = encoding("1.2.840.10008.1.2.4.90")
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    held.wait(10)
    try:
        pid = os.fork()
        if pid == 0:  # the child: exit 0 only if the encoder lock can be taken here
            ok = encoding("1.2.840.10008.1.2.4.90").acquire(timeout=2)
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
    finally:
        release.set()
        holder.join()
    assert os.waitstatus_to_exitcode(status) == 0
    assert encoding("1.2.840.10008.1.2.4.90") is lock  # the parent's lock is untouched
