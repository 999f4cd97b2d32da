"""A minimal Arrow C stream consumer in ctypes (pyarrow is not installable here): reads the
PyCapsules a producer hands out, the way pyarrow/polars/DuckDB do, and decodes the buffers."""
import ctypes
import datetime as dt
import decimal


class ArrowSchema(ctypes.Structure):
    pass


ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p), ("name", ctypes.c_char_p), ("metadata", ctypes.c_char_p),
    ("flags", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowSchema))),
    ("dictionary", ctypes.POINTER(ArrowSchema)),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowSchema))),
    ("private_data", ctypes.c_void_p)]


class ArrowArray(ctypes.Structure):
    pass


ArrowArray._fields_ = [
    ("length", ctypes.c_int64), ("null_count", ctypes.c_int64), ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowArray))),
    ("dictionary", ctypes.POINTER(ArrowArray)),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArray))),
    ("private_data", ctypes.c_void_p)]


class ArrowArrayStream(ctypes.Structure):
    pass


ArrowArrayStream._fields_ = [
    ("get_schema", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ArrowArrayStream),
                                    ctypes.POINTER(ArrowSchema))),
    ("get_next", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ArrowArrayStream),
                                  ctypes.POINTER(ArrowArray))),
    ("get_last_error", ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.POINTER(ArrowArrayStream))),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArrayStream))),
    ("private_data", ctypes.c_void_p)]

_get = ctypes.pythonapi.PyCapsule_GetPointer
_get.restype = ctypes.c_void_p
_get.argtypes = [ctypes.py_object, ctypes.c_char_p]
_set_name = ctypes.pythonapi.PyCapsule_IsValid
_set_name.restype = ctypes.c_int
_set_name.argtypes = [ctypes.py_object, ctypes.c_char_p]


def capsule_ptr(cap, name):
    assert _set_name(cap, name) == 1, f"not a {name!r} capsule"
    return _get(cap, name)


def schema_fields(schema):
    assert schema.format == b"+s"
    return [(schema.children[i].contents.name.decode(), schema.children[i].contents.format.decode(),
             schema.children[i].contents.flags) for i in range(schema.n_children)]


def read_schema_capsule(cap):
    p = ctypes.cast(capsule_ptr(cap, b"arrow_schema"), ctypes.POINTER(ArrowSchema))
    return schema_fields(p.contents)


def _valid(arr, i):
    if arr.null_count == 0 or not arr.buffers[0]:
        return True
    bits = ctypes.cast(arr.buffers[0], ctypes.POINTER(ctypes.c_uint8))
    j = i + arr.offset
    return bool(bits[j >> 3] & (1 << (j & 7)))


def _column(arr, fmt):
    n, off = arr.length, arr.offset
    out = []
    for i in range(n):
        if not _valid(arr, i):
            out.append(None)
            continue
        k = i + off
        if fmt in ("l", "tdD", "g") or fmt.startswith("ts"):
            ct = {"l": ctypes.c_int64, "g": ctypes.c_double, "tdD": ctypes.c_int32}.get(
                fmt, ctypes.c_int64)
            v = ctypes.cast(arr.buffers[1], ctypes.POINTER(ct))[k]
            if fmt == "tdD":
                v = dt.date(1970, 1, 1) + dt.timedelta(days=v)
            elif fmt.startswith("tsu"):
                v = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=v)
        elif fmt == "b":
            bits = ctypes.cast(arr.buffers[1], ctypes.POINTER(ctypes.c_uint8))
            v = bool(bits[k >> 3] & (1 << (k & 7)))
        elif fmt in ("u", "z"):
            offs = ctypes.cast(arr.buffers[1], ctypes.POINTER(ctypes.c_int32))
            raw = ctypes.string_at(arr.buffers[2] + offs[k], offs[k + 1] - offs[k]) \
                if offs[k + 1] > offs[k] else b""
            v = raw.decode() if fmt == "u" else raw
        elif fmt.startswith("d:"):
            p, s = (int(x) for x in fmt[2:].split(",")[:2])
            raw = ctypes.string_at(arr.buffers[1] + 16 * k, 16)
            v = decimal.Decimal(int.from_bytes(raw, "little", signed=True)).scaleb(-s)
        else:
            raise AssertionError(f"format {fmt} not decoded by this consumer")
        out.append(v)
    return out


def read_stream_capsule(cap):
    """(fields, rows as tuples, number of batches); releases everything it took."""
    p = ctypes.cast(capsule_ptr(cap, b"arrow_array_stream"), ctypes.POINTER(ArrowArrayStream))
    st = p.contents
    schema = ArrowSchema()
    assert st.get_schema(p, ctypes.byref(schema)) == 0
    fields = schema_fields(schema)
    rows, batches = [], 0
    while True:
        arr = ArrowArray()
        rc = st.get_next(p, ctypes.byref(arr))
        assert rc == 0, st.get_last_error(p)
        if not arr.release:
            break
        batches += 1
        cols = [_column(arr.children[i].contents, fields[i][1]) for i in range(arr.n_children)]
        rows.extend(zip(*cols))
        arr.release(ctypes.byref(arr))
        assert not arr.release  # the producer marks it released
    schema.release(ctypes.byref(schema))
    return fields, rows, batches


def count_stream_rows(cap):
    """Only the lengths: what a zero-copy consumer costs."""
    p = ctypes.cast(capsule_ptr(cap, b"arrow_array_stream"), ctypes.POINTER(ArrowArrayStream))
    st = p.contents
    total = 0
    while True:
        arr = ArrowArray()
        assert st.get_next(p, ctypes.byref(arr)) == 0
        if not arr.release:
            return total
        total += arr.length
        arr.release(ctypes.byref(arr))


def stream_of(cap):
    """(cap, pointer, struct): the ArrowArrayStream behind a stream capsule, owned by the
    capsule, so the caller keeps cap alive while using the stream."""
    p = ctypes.cast(capsule_ptr(cap, b"arrow_array_stream"), ctypes.POINTER(ArrowArrayStream))
    return cap, p, p.contents


_NextWithGil = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.POINTER(ArrowArrayStream),
                                 ctypes.POINTER(ArrowArray))


_ReleaseWithGil = ctypes.PYFUNCTYPE(None, ctypes.POINTER(ArrowArray))


def next_holding_gil(st):
    """st.get_next called the way a C consumer holding the GIL calls it (ctypes' CFUNCTYPE
    would release the GIL itself)."""
    return _NextWithGil(ctypes.cast(st.get_next, ctypes.c_void_p).value)


def release_holding_gil(arr):
    """arr.release(arr), holding the GIL."""
    _ReleaseWithGil(ctypes.cast(arr.release, ctypes.c_void_p).value)(ctypes.byref(arr))


def int64_sum(arr, child):
    """Sum of an int64 child column of a batch without nulls, read in place."""
    c = arr.children[child].contents
    assert c.null_count == 0
    vals = (ctypes.c_int64 * (c.length + c.offset)).from_address(c.buffers[1])
    return sum(vals[c.offset:])
