#!/usr/bin/env python3
"""The native checksum of the XnorEdge.Nano.Native interop assembly, two ways.

  native-checksum.py                 computes it from the declarations (below), the way metadata-processor
                                     does: a CRC-32 (polynomial 0x04C11DB7, MSB first, no reflection, no final
                                     XOR) over the assembly name, class name and method signature string of
                                     each native method in method-table order, where the running value only
                                     starts to count once the first native method has been added.
  native-checksum.py X.pe            reads it from a compiled .pe (the u32 at byte 20 of the assembly header,
                                     nativeMethodsChecksum), to compare with the firmware's value.

The value must equal the checksum in XnorEdge_Nano_Native.cpp (CLR_RT_NativeAssemblyData), or nanoCLR
refuses to bind the assembly ("Invalid native checksum").
"""
import struct
import sys

ASSEMBLY = "XnorEdge.Nano.Native"
CLASS = "XnorEdge_Native_NativeKernels"  # namespace XnorEdge.Native, class NativeKernels, '.' -> '_'
# Static methods in declaration order (NativeKernels.cs); return type first, then the parameters.
METHODS = [
    "Run___STATIC__I4__SZARRAY_I4__SZARRAY_U1__I4__SZARRAY_U4__SZARRAY_R4__SZARRAY_I1__I4__I4__I4",
    "Version___STATIC__I4",
]


def crc32_msb(data: bytes, crc: int) -> int:
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else (crc << 1)
            crc &= 0xFFFFFFFF
    return crc


def from_declarations() -> int:
    crc, natives = 0, 0
    for method in METHODS:
        for part in (ASSEMBLY, CLASS, method):
            crc = crc32_msb(part.encode("ascii"), crc if natives > 0 else 0)
        natives += 1
    return crc


def from_pe(path: str) -> int:
    with open(path, "rb") as f:
        header = f.read(24)
    if len(header) < 24 or not header.startswith(b"NFMRK"):
        raise SystemExit(f"{path}: not a nanoFramework .pe (no NFMRK marker)")
    return struct.unpack_from("<I", header, 20)[0]


if __name__ == "__main__":
    value = from_pe(sys.argv[1]) if len(sys.argv) > 1 else from_declarations()
    print(f"0x{value:08X}")
