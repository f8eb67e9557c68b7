"""A Griffe extension for the API pages: the `>>>` examples in stepgrad's docstrings (doctests,
run by `./dev.sh test`) are shown as Python console code, not read as Markdown."""

import griffe


def fence_doctests(text):
    """Put each run of `>>>` lines (with their output, up to a blank line) in a pycon fence."""
    out, inside = [], False
    for line in text.splitlines():
        stripped = line.lstrip()
        if not inside and stripped.startswith(">>>"):
            indent = line[: len(line) - len(stripped)]
            out.append(f"{indent}```pycon")
            inside = True
        elif inside and not stripped:
            out.append(f"{indent}```")
            inside = False
        out.append(line)
    if inside:
        out.append(f"{indent}```")
    return "\n".join(out)


class DoctestFences(griffe.Extension):
    def on_instance(self, *, obj, **kwargs):
        if obj.docstring is not None and ">>>" in obj.docstring.value:
            obj.docstring.value = fence_doctests(obj.docstring.value)
