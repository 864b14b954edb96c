"""How far an archive may expand: the one guard of uploaded zips and Excel workbooks (zip files too)."""


def too_expansive(members, max_bytes, max_ratio):
    """Whether zip `members` (ZipInfo) would expand beyond `max_bytes` in all, or any of them beyond
    `max_ratio` times its compressed size (a zip bomb).

    The sizes are the archive's own declarations, read from its directory without expanding anything;
    Python's zipfile, which openpyxl reads through too, never expands a member past its declared size.
    """
    declared = sum(member.file_size for member in members)
    return declared > max_bytes or any(member.file_size > max_ratio * max(member.compress_size, 1)
                                       for member in members)
