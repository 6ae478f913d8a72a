"""Decoding the PNGs Fieldline writes (8-bit grey or RGB), with their tEXt chunks, using only the standard library."""
import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_png(data):
    """Returns (pixels, width, height, channels, text): pixels as bytes, row-major, channels interleaved.

    Handles all five PNG row filters, so any 8-bit grey or RGB PNG decodes, not only Fieldline's.
    Raises ValueError for anything else (palette, 16-bit, interlaced, truncated).
    """
    if not data.startswith(SIGNATURE):
        raise ValueError("not a PNG (no PNG signature)")
    pos = len(SIGNATURE)
    width = height = channels = None
    idat = []
    text = {}
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        if len(body) != length:
            raise ValueError("PNG chunk %r runs past the end" % kind)
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or color not in (0, 2) or interlace != 0:
                raise ValueError("only 8-bit grey or RGB, non-interlaced PNGs (got depth %d, colour type %d)"
                                 % (depth, color))
            channels = 1 if color == 0 else 3
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"tEXt":
            key, _, value = body.partition(b"\x00")
            text[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"IEND":
            break
    if width is None:
        raise ValueError("PNG without IHDR")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    out = bytearray(height * stride)
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        filt = raw[start]
        row = bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = row[i - channels] if i >= channels else 0
            b = prev[i]
            c = prev[i - channels] if i >= channels else 0
            if filt == 1:
                row[i] = (row[i] + a) & 0xFF
            elif filt == 2:
                row[i] = (row[i] + b) & 0xFF
            elif filt == 3:
                row[i] = (row[i] + (a + b) // 2) & 0xFF
            elif filt == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
            elif filt != 0:
                raise ValueError("unknown PNG row filter %d" % filt)
        out[y * stride:(y + 1) * stride] = row
        prev = row
    return bytes(out), width, height, channels, text
