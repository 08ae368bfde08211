"""JSON text for whole Arrow columns, in Arrow's C++ kernels: what the snapshot builder
serialises for a million articles on every publish.

Why: building each article's JSON fragment and ISO date one Python call at a time took
about 11 s of a 39 s publish at 1M articles (``bench/api_bench.py``'s warehouse), and every
second of a build is CPU the serving workers on the same cores do not get.  Each function
here gives exactly the text its per-value Python counterpart gives
(``json.encoder.encode_basestring``, ``pipeline.api.snapshot._iso``): the rare values the
kernels cannot write that way (control characters other than the five JSON names, dates
with sub-second parts, types other than text and timestamps) go through that same Python
code, so there is one definition of the text.
"""

from __future__ import annotations

from json.encoder import encode_basestring

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# JSON's named escapes, backslash first so the later replacements are not escaped again
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"), ("\b", "\\b"),
            ("\f", "\\f"))
_OTHER_CONTROLS = r"[\x00-\x07\x0b\x0e-\x1f]"  # written as \u00XX: left to encode_basestring


def _patch(out: pa.Array, rows: np.ndarray, values: list[str | None]) -> pa.Array:
    """``out`` with ``rows`` replaced by ``values`` (the few the kernels do not write)."""
    if not len(rows):
        return out
    mask = np.zeros(len(out), dtype=bool)
    mask[rows] = True
    filler = np.empty(len(out), dtype=object)
    filler[rows] = values
    return pc.if_else(pa.array(mask), pa.array(filler, out.type), out)


def _plain(values: pa.Array) -> bool:
    """True when no text of ``values`` holds a byte JSON escapes (``"``, ``\\``, controls):
    one scan of the data buffer, so an id or URL column costs no per-row work."""
    data = values.buffers()[2]
    if data is None:
        return True
    b = np.frombuffer(data, dtype=np.uint8)
    return not bool(((b < 0x20) | (b == 0x22) | (b == 0x5C)).any())


def json_literals(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each text as a JSON string literal (``ensure_ascii=False``), a null as ``null``."""
    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if not pa.types.is_string(values.type):  # large, view or all-null columns: the kernels below take string
        values = values.cast(pa.string())
    escaped, odd = values, np.zeros(0, dtype=np.int64)
    if not _plain(values):
        needs = pc.fill_null(pc.match_substring_regex(values, r'["\\\x00-\x1f]'), False)
        some = values.filter(needs)
        for raw, esc in _ESCAPES:
            some = pc.replace_substring(some, raw, esc)
        escaped = pc.replace_with_mask(values, needs, some)
        odd = np.flatnonzero(pc.fill_null(pc.match_substring_regex(some, _OTHER_CONTROLS), False).to_numpy(
            zero_copy_only=False))
        odd = np.flatnonzero(needs.to_numpy(zero_copy_only=False))[odd]
    out = pc.fill_null(pc.binary_join_element_wise('"', escaped, '"', ""), "null")
    return _patch(out, odd, [encode_basestring(values[int(i)].as_py()) for i in odd])


def iso_texts(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    """Each date as ``_iso`` writes it: UTC ``isoformat()`` (``+00:00``; a naive timestamp is
    UTC; microseconds only when not zero); text as it is; null as null."""
    from pipeline.api.snapshot import _iso

    values = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_string(values.type) or pa.types.is_large_string(values.type) or pa.types.is_null(values.type) \
            or pa.types.is_string_view(values.type):
        return values.cast(pa.string())
    if not pa.types.is_timestamp(values.type) or values.type.unit == "ns":
        return pa.array([_iso(v) for v in values.to_pylist()], pa.string())
    micros = values.cast(pa.timestamp("us", values.type.tz)).view(pa.int64())
    seconds = pc.divide(micros, 1_000_000)  # whole seconds for dates after 1970
    whole = pc.multiply(seconds, 1_000_000)
    # "YYYY-MM-DD HH:MM:SS" from Arrow's cast (17 times faster than its strftime at 1M)
    text = pc.binary_replace_slice(seconds.view(pa.timestamp("s")).cast(pa.string()), 10, 11, "T")
    out = pc.binary_join_element_wise(text, "+00:00", "")
    # sub-second parts and dates before 1970 (integer division truncates there): Python
    odd = np.flatnonzero(pc.fill_null(pc.or_(pc.not_equal(whole, micros), pc.less(micros, 0)), False)
                         .to_numpy(zero_copy_only=False))
    return _patch(out, odd, [_iso(values[int(i)].as_py()) for i in odd])
