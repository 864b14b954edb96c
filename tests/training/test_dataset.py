"""The training data's fingerprint: each export file's name and bytes, nothing else."""
import hashlib

from training.dataset import folder_fingerprint


def test_the_fingerprint_is_the_hash_of_each_export_name_and_digest(tmp_path):
    exports = {"a.csv": b"1,2\n", "b.csv": "纳税人,3\n".encode("gb18030")}
    for name, content in exports.items():
        (tmp_path / name).write_bytes(content)
    expected = hashlib.sha256()
    for name, content in sorted(exports.items()):
        expected.update(name.encode())
        expected.update(hashlib.sha256(content).digest())
    # The same formula as the registered versions' fingerprints: the same data, the same identity.
    assert folder_fingerprint(tmp_path) == expected.hexdigest()


def test_the_fingerprint_ignores_the_truth_folder_and_follows_every_byte(tmp_path):
    (tmp_path / "a.csv").write_bytes(b"1,2\n")
    (tmp_path / "_truth").mkdir()
    (tmp_path / "_truth" / "loans.csv").write_bytes(b"pd\n")
    before = folder_fingerprint(tmp_path)
    (tmp_path / "_truth" / "loans.csv").write_bytes(b"pd,0.1\n")
    assert folder_fingerprint(tmp_path) == before
    (tmp_path / "a.csv").write_bytes(b"1,3\n")
    assert folder_fingerprint(tmp_path) != before
