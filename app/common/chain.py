"""The audit log's hash chain: one canonical form of an entry, hashed with the hash before it.

Changing anything here breaks the verification of every entry already written: the form is fixed.
"""
import hashlib
import json

# The `prev_hash` of the first entry of the chain.
GENESIS = "0" * 64


def canonical(entry_id, at, actor_id, action, target_type, target_id, details, ip, prev_hash):
    """The entry as one UTF-8 JSON text: fixed field order, sorted detail keys, no spaces."""
    fields = [entry_id, at.isoformat() if at is not None else None, actor_id, action, target_type, target_id,
              details, ip, prev_hash]
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def entry_hash(entry_id, at, actor_id, action, target_type, target_id, details, ip, prev_hash):
    """Hex sha256 of the entry's canonical form, chained to `prev_hash`."""
    return hashlib.sha256(canonical(entry_id, at, actor_id, action, target_type, target_id, details, ip,
                                    prev_hash)).hexdigest()
