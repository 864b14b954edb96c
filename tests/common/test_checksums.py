"""File checksums: the sha256 of a file's bytes, whatever its size."""
import hashlib

import pytest

from app.common.checksums import file_sha256

BLOCK = 1 << 20


def test_the_empty_file_has_the_well_known_digest(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    assert file_sha256(path) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize("size", [1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK + 7])
def test_files_around_the_block_size_hash_as_their_bytes(tmp_path, size):
    content = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path = tmp_path / "file"
    path.write_bytes(content)
    assert file_sha256(path) == hashlib.sha256(content).hexdigest()
    assert file_sha256(str(path)) == file_sha256(path)


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        file_sha256(tmp_path / "missing")
