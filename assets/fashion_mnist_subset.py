#!/usr/bin/python3
"""Writes the first N images and labels of Fashion-MNIST's train and test IDX files (Debian package
dataset-fashion-mnist) as smaller gzip IDX files: the bundled "fashion_mnist_small" datasets.

usage: fashion_mnist_subset.py SRC_DIR OUT_DIR N_TRAIN N_TEST
"""
import gzip
import os
import struct
import sys


def subset(src, dst, n):
    with gzip.open(src, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    ndims = magic & 0xFF
    dims = list(struct.unpack(">" + "I" * ndims, data[4:4 + 4 * ndims]))
    per_item = 1
    for d in dims[1:]:
        per_item *= d
    n = min(n, count)
    header = struct.pack(">I", magic) + struct.pack(">" + "I" * ndims, n, *dims[1:])
    body = data[4 + 4 * ndims: 4 + 4 * ndims + n * per_item]
    tmp = dst + ".tmp"
    with open(tmp, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0, filename="") as f:
        f.write(header + body)
    os.replace(tmp, dst)


def main():
    src, out, n_train, n_test = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    os.makedirs(out, exist_ok=True)
    for part, n in (("train", n_train), ("t10k", n_test)):
        for kind in ("images-idx3", "labels-idx1"):
            name = "%s-%s-ubyte.gz" % (part, kind)
            subset(os.path.join(src, name), os.path.join(out, name), n)


if __name__ == "__main__":
    main()
