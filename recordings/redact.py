"""Personal data kept out of what people see: screens, CLI tables, JSON exports and log lines."""

from __future__ import annotations


def mask_number(num: str | None, keep: int = 4) -> str | None:
    """A phone number (caller id) with only its last ``keep`` digits shown: *******8003."""
    if not num:
        return num
    digits = [i for i, c in enumerate(num) if c.isdigit()]
    chars = list(num)
    for i in digits[: max(0, len(digits) - keep)]:
        chars[i] = "*"
    return "".join(chars)
