"""Text bound for CSV files that people open in a spreadsheet."""

# A cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets
# (OWASP "CSV injection"); tab and carriage return start one too in some of them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell_safe(text: str) -> str:
    """``text`` as a spreadsheet shows it and never runs it: a leading quote where it would
    start a formula, otherwise unchanged."""
    return f"'{text}" if text.startswith(_FORMULA_START) else text
