"""One exception type for every user-facing failure (bad input, bad file, bad config).

The CLI prints ``hwcae: error: <message>`` for it and exits with status 2; anything else is a bug.
"""


class HwcaeError(Exception):
    """A problem with the user's input, files or configuration, told in one line."""
