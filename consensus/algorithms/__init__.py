"""Pure consensus algorithms: arrays and shapes in, numbers out. No Django import here.

Checked by mypy --strict. numpy's stubs type arithmetic on an ``np.ndarray`` of unspecified dtype
as Any, so a computed array is bound to an annotated name before it is returned."""
