"""The run-check scripts as bamon installs them (setup.py's build), not as the sources read.

run-check and the files it sources run in every check run, and bash parses every byte a run
reaches, comments too: callgrind counts ~120 instructions per comment byte, ~0.15 million per
run of a check with dependencies and a circuit breaker (docs/run-check.md). The installed copies
drop whole-line comments, blank lines and trailing comments, and spell run-check's own names
(`__bamon_start`, which no command meets by accident) with a shorter prefix (`_Bstart`): ~60,000
instructions a run, the same in every part. The sources keep both for people.
"""

from __future__ import annotations

# run-check's shell variables and its one function; nothing else in those files contains it
PREFIX, SHORT_PREFIX = "__bamon_", "_B"


def installed(script: str) -> str:
    """`script` as the package installs it: stripped of comments, its own names shortened."""
    return strip(script).replace(PREFIX, SHORT_PREFIX)


def _code_part(line: str) -> str:
    """The line without a trailing comment: a `#` that starts a word, outside quotes and ${…}."""
    quote, braces, index, word_start = "", 0, 0, True
    while index < len(line):
        char = line[index]
        if char == "\\" and quote != "'":
            index, word_start = index + 2, False  # an escaped character is never a quote, blank or comment
            continue
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif line.startswith("${", index):
            braces += 1
            index += 1
        elif char == "}" and braces:
            braces -= 1
        elif char == "#" and not braces and word_start:
            return line[:index].rstrip()
        word_start = not quote and char in " \t"
        index += 1
    return line


def strip(script: str) -> str:
    """`script` without comments and blank lines; a script with a here-document is left as it is
    (its body is data, where a `#` line is not a comment)."""
    if "<<" in script:
        return script
    kept = (_code_part(line) for line in script.splitlines())
    return "".join(f"{line}\n" for line in kept if line.strip())
