#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora next to this script: a few tiny
valid and invalid IDX files (idx/), safetensors files (safetensors/) and
NumPy .npy files (npy/). The image seeds (image/) are written by
fuzz/make_image_seeds.c, with libpng and libjpeg.
Deterministic (gzip mtime 0), so rerunning it changes nothing. The names say
what each seed is; the readers' tests in tests/io hold the expected messages.
"""
import gzip
import json
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def idx(ndim_dims, data, magic_type=0x08, ndim=None):
    ndim = len(ndim_dims) if ndim is None else ndim
    head = bytes([0, 0, magic_type, ndim]) + b"".join(struct.pack(">I", d) for d in ndim_dims)
    return head + bytes(data)


def gz(b):
    return gzip.compress(b, mtime=0)


def st(tensors, meta=None, data=b"", pad=True, raw_header=None):
    """tensors: list of (name, dtype, shape, [begin, end])."""
    if raw_header is None:
        h = {}
        if meta is not None:
            h["__metadata__"] = meta
        for name, dtype, shape, offs in tensors:
            h[name] = {"dtype": dtype, "shape": shape, "data_offsets": offs}
        raw_header = json.dumps(h, separators=(",", ":"), ensure_ascii=False).encode()
    if pad:
        raw_header += b" " * (-len(raw_header) % 8)
    return struct.pack("<Q", len(raw_header)) + raw_header + data


def npy(descr, shape, data, order="False", version=1, header=None):
    """A .npy file: the header dict padded with spaces to a multiple of 64
    and ended by a newline, as numpy.save writes it."""
    if header is None:
        dims = "".join("%d, " % d for d in shape) if len(shape) != 1 else "%d," % shape[0]
        header = "{'descr': '%s', 'fortran_order': %s, 'shape': (%s), }" % (
            descr, order, dims.rstrip(", ") if len(shape) > 1 else dims)
    head = header.encode("latin-1")
    pre = 10 if version == 1 else 12
    n = (pre + len(head) + 1 + 63) // 64 * 64 - pre
    head = head + b" " * (n - len(head) - 1) + b"\n"
    size = struct.pack("<H", n) if version == 1 else struct.pack("<I", n)
    return b"\x93NUMPY" + bytes([version, 0]) + size + head + bytes(data)


def main():
    img = idx([2, 3, 2], range(12))
    lab = idx([5], [0, 1, 2, 9, 3])
    seeds_idx = {
        "good_images_2x3x2": img,
        "good_labels_5": lab,
        "good_images_2x3x2.gz": gz(img),
        "good_labels_5.gz": gz(lab),
        "good_one_pixel": idx([1, 1, 1], [255]),
        "bad_empty": b"",
        "bad_magic_only": bytes([0, 0, 8, 3]),
        "bad_magic_nonzero": bytes([1, 0, 8, 1, 0, 0, 0, 1, 7]),
        "bad_type_float": idx([1], [0, 0, 0, 0], magic_type=0x0D),
        "bad_ndim_2": idx([2, 2], [1, 2, 3, 4]),
        "bad_dim_zero": idx([0, 3, 2], []),
        "bad_truncated_header": idx([2, 3, 2], [])[:9],
        "bad_truncated_data": img[:-3],
        "bad_overlong_data": img + b"\x00\x01",
        "bad_huge_dims": idx([0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], [1, 2, 3]),
        "bad_truncated.gz": gz(img)[:-6],
        "bad_gz_crc.gz": gz(img)[:-8] + b"\x00\x00\x00\x00" + gz(img)[-4:],
        "bad_gz_overlong.gz": gz(img + b"xyz"),
    }
    f32 = struct.pack("<6f", *[0.5 * i for i in range(6)])
    i64 = struct.pack("<q", -3)
    good = st([("w", "F32", [2, 3], [0, 24]), ("step", "I64", [], [24, 32])],
              meta={"format": "pt", "model": "vae_mlp"}, data=f32 + i64)
    seeds_st = {
        "good_two_tensors_meta": good,
        "good_empty_header": st([], data=b""),
        "good_empty_tensor": st([("e", "F16", [0, 4], [0, 0]), ("b", "U8", [3], [0, 3])],
                                data=b"abc"),
        "good_escapes": st([], raw_header='{"__metadata__":{"n\\u00e9\\ud83d\\ude00\\n":'
                           '"\\"\\\\\\/\\b\\f\\r\\t"},"x\\u0041":{"dtype":"BF16","shape":[1],'
                           '"data_offsets":[0,2]}}'.encode(), data=b"\x80\x3f"),
        "good_unpadded_ws": st([], raw_header=b' { "a" : { "dtype" : "BOOL" , "shape" : [ 2 ] '
                               b', "data_offsets" : [ 0 , 2 ] } }\n', pad=False, data=b"\x01\x00"),
        "bad_short": b"\x08\x00\x00",
        "bad_header_past_end": struct.pack("<Q", 1000) + b"{}",
        "bad_header_huge": struct.pack("<Q", 1 << 40) + b"{}",
        "bad_not_object": st([], raw_header=b"[]"),
        "bad_trailing": st([], raw_header=b"{}x"),
        "bad_gap": st([("a", "U8", [2], [1, 3])], data=b"abc"),
        "bad_overlap": st([("a", "U8", [2], [0, 2]), ("b", "U8", [2], [1, 3])], data=b"abc"),
        "bad_trailing_data": st([("a", "U8", [2], [0, 2])], data=b"abc"),
        "bad_unknown_dtype": st([("a", "F31", [1], [0, 4])], data=b"abcd"),
        "bad_duplicate_name": st([], raw_header=b'{"a":{"dtype":"U8","shape":[1],"data_offsets"'
                                 b':[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}',
                                 data=b"ab"),
        "bad_negative": st([], raw_header=b'{"a":{"dtype":"U8","shape":[-1],'
                           b'"data_offsets":[0,1]}}', data=b"a"),
        "bad_overflow_shape": st([], raw_header=b'{"a":{"dtype":"F64","shape":[4294967296,'
                                 b'4294967296],"data_offsets":[0,8]}}', data=b"a" * 8),
        "bad_lone_surrogate": st([], raw_header=b'{"\\udc00":{"dtype":"U8","shape":[1],'
                                 b'"data_offsets":[0,1]}}', data=b"a"),
        "bad_meta_number": st([], raw_header=b'{"__metadata__":{"k":1}}'),
        "bad_invalid_utf8": st([], raw_header=b'{"\xc3\x28":{"dtype":"U8","shape":[1],'
                               b'"data_offsets":[0,1]}}', data=b"a"),
    }
    f4 = lambda vals: struct.pack("<%df" % len(vals), *vals)
    seeds_npy = {
        "good_grey_u1_2x3x2": npy("|u1", (2, 3, 2), range(12)),
        "good_nchw_f4_1x3x2x2": npy("<f4", (1, 3, 2, 2), f4([i / 11 for i in range(12)])),
        "good_nhwc_u1_2x2x2x3": npy("|u1", (2, 2, 2, 3), range(24)),
        "good_nchw_u1_1x1x2x2": npy("|u1", (1, 1, 2, 2), [0, 64, 128, 255]),
        "good_v2_grey": npy("|u1", (1, 2, 2), [1, 2, 3, 4], version=2),
        "good_v3_grey": npy("|u1", (1, 1, 1), [9], version=3),
        "good_labels_u1": npy("|u1", (5,), [0, 1, 2, 9, 3]),
        "good_labels_i8": npy("<i8", (3,), struct.pack("<3q", 0, 7, 255)),
        "good_labels_bool": npy("|b1", (2,), [0, 1]),
        "good_labels_be_u1": npy(">u1", (2,), [4, 5]),
        "bad_empty": b"",
        "bad_magic_only": b"\x93NUMPY\x01\x00",
        "bad_version_9": npy("|u1", (1, 1, 1), [0])[:6] + b"\x09" + npy("|u1", (1, 1, 1), [0])[7:],
        "bad_big_endian_f4": npy(">f4", (1, 1, 1), struct.pack(">f", 0.5)),
        "bad_fortran": npy("|u1", (1, 2, 2), [1, 2, 3, 4], order="True"),
        "bad_float_range": npy("<f4", (1, 1, 2), f4([0.5, 1.5])),
        "bad_float_nan": npy("<f4", (1, 1, 1), f4([float("nan")])),
        "bad_float64": npy("<f8", (1, 1, 1), struct.pack("<d", 0.5)),
        "bad_label_300": npy("<i2", (1,), struct.pack("<h", 300)),
        "bad_label_negative": npy("<i4", (1,), struct.pack("<i", -1)),
        "bad_labels_2d": npy("|u1", (2, 1), [0, 1]),
        "bad_images_2d": npy("|u1", (2, 2), [0, 1, 2, 3]),
        "bad_channels_2": npy("|u1", (1, 2, 1, 1), [0, 1]),
        "bad_truncated": npy("|u1", (2, 3, 2), range(12))[:-3],
        "bad_over_long": npy("|u1", (1, 1, 1), [0, 1]),
        "bad_zero_dim": npy("|u1", (0, 2, 2), []),
        "bad_five_dims": npy("|u1", (1, 1, 1, 1, 1), [0]),
        "bad_scalar": npy("|u1", (), [0], header="{'descr': '|u1', 'fortran_order': False, "
                          "'shape': (), }"),
        "bad_no_shape": npy("|u1", (1,), [0], header="{'descr': '|u1', 'fortran_order': False}"),
        "bad_huge_dims": npy("|u1", (4294967295, 4294967295, 4294967295), [0]),
        "bad_text": b"not a numpy file\n",
    }
    for folder, seeds in (("idx", seeds_idx), ("safetensors", seeds_st), ("npy", seeds_npy)):
        os.makedirs(os.path.join(HERE, folder), exist_ok=True)
        for name, b in seeds.items():
            with open(os.path.join(HERE, folder, name), "wb") as f:
                f.write(b)


if __name__ == "__main__":
    main()
