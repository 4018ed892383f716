#!/usr/bin/env python3
"""Independent check of an okaz audit log inclusion proof (RFC 9162 2.1.3.2).

Reads a JSON file {leaf_index, tree_size, leaf_data or leaf_hash (hex),
proof[], root} (base64)
and exits 0 when the proof leads from the leaf to the root, 1 otherwise.
Written from the RFC, sharing no code with okaz."""
import base64, hashlib, json, sys

def verify(index, size, leaf, proof, root):
    if index >= size:
        return False
    r = leaf
    fn, sn = index, size - 1
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            while fn & 1 == 0 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root

doc = json.load(open(sys.argv[1]))
b = base64.b64decode
if "leaf_hash" in doc:  # a receipt names its leaf by hash (hex)
    leaf = bytes.fromhex(doc["leaf_hash"])
else:
    leaf = hashlib.sha256(b"\x00" + b(doc["leaf_data"])).digest()
ok = verify(doc["leaf_index"], doc["tree_size"], leaf,
            [b(p) for p in doc["proof"]], b(doc["root"]))
print("ok" if ok else "proof does not verify")
sys.exit(0 if ok else 1)
