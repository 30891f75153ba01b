"""Handing memory back to the system after a big piece of work."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import gc


@functools.cache
def _malloc_trim() -> ctypes._NamedFuncPointer | None:
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None


def give_memory_back() -> None:
    """Free what the garbage collector can, and hand the heap's free pages back to the system
    (glibc's ``malloc_trim``; elsewhere the collection alone), so that what a big piece of work
    used and let go does not stack under what comes next."""
    gc.collect()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
